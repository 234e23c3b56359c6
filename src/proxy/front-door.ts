import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BadRequestError, NotFoundError, type GatewayError } from '../errors.js';
import { parseRequestTarget } from '../http/request-path.js';
import type { RequestObserver } from '../observability/request-observer.js';
import {
  forwardWith,
  proxyRequest,
  proxyUpgrade,
  upgradeWith,
  type ApiPipelineDeps,
} from './api-pipeline.js';
import type { Forwarder } from './forward.js';
import type { RouteTable } from './route-table.js';
import { requireOwnOrigin, requireWebSocketUpgrade } from './steps.js';
import { requestFraming } from './upstream-headers.js';

export interface FrontDoorDeps {
  table: RouteTable;
  api: ApiPipelineDeps;
  /** Everything that is not a route: the Express app (/auth, health, the frontend, 404). */
  fallback: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * FRONTEND_URL (a dev server such as Vite): every path that is neither a route nor the gateway's own
   * (`/auth/*`, health) goes there, WebSocket upgrades (hot reload) too, with no token.
   */
  frontend: Forwarder | undefined;
  observe: RequestObserver;
  /** Maps any error to the contract's error and logs it (http/error-handler.ts). */
  toGatewayError: (err: unknown, context: Record<string, unknown>) => GatewayError;
  writeError: (res: ServerResponse, err: GatewayError) => void;
  refuseUpgrade: (socket: Duplex, err: GatewayError) => void;
}

const MALFORMED_PATH = 'Malformed path.';
const MALFORMED_FRAMING = 'Malformed request framing: send one Content-Length or Transfer-Encoding: chunked.';

/**
 * The server's first look at every request, before Express. Every request meets the path rules
 * (http/request-path.ts) and the framing rules; requests for a route are then answered here, on plain
 * node:http objects (Express's per-request prototype swap slows every later property access on them),
 * and everything else goes to Express unchanged.
 */
export function frontDoor(deps: FrontDoorDeps) {
  const fail = (req: IncomingMessage, res: ServerResponse, path: string, err: unknown) => {
    const mapped = deps.toGatewayError(err, { method: req.method, path });
    if (res.headersSent) res.destroy();
    else deps.writeError(res, mapped);
  };

  function request(req: IncomingMessage, res: ServerResponse): void {
    const target = parseRequestTarget(req.url ?? '');
    const framing = target && requestFraming(req);
    if (!target || !framing) {
      const path = (req.url ?? '').split('?')[0]!;
      deps.observe(req, res, 'invalid', path);
      return fail(req, res, path, new BadRequestError(target ? MALFORMED_FRAMING : MALFORMED_PATH));
    }
    const match = deps.table.match(target.path, target.query);
    if (!match) {
      if (!deps.frontend || isGatewayPath(target.path)) return deps.fallback(req, res);
      deps.observe(req, res, 'frontend', target.path);
      const url = target.path + target.query;
      return forwardWith(deps.frontend, req, res, url, framing, undefined, deps.api);
    }
    deps.observe(req, res, match.route.prefix, target.path);
    proxyRequest(req, res, match, framing, deps.api).catch((err: unknown) =>
      fail(req, res, target.path, err),
    );
  }

  /**
   * Upgrades: only WebSocket handshakes on GET (anything else, `h2c` included, is refused before any
   * session or token work), on `websocket: true` routes, or outside the routes to the frontend dev server.
   */
  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0]!;
    const refuse = (err: unknown) =>
      deps.refuseUpgrade(socket, deps.toGatewayError(err, { method: req.method, path, websocket: true }));
    try {
      const target = parseRequestTarget(req.url ?? '');
      if (!target) throw new BadRequestError(MALFORMED_PATH);
      requireWebSocketUpgrade(req);
      const match = deps.table.match(target.path, target.query);
      if (match) {
        proxyUpgrade(req, socket, head, match, deps.api).catch(refuse);
        return;
      }
      if (!deps.frontend || isGatewayPath(target.path)) throw new NotFoundError('No WebSocket route here.');
      requireOwnOrigin(req, deps.api.publicOrigin);
      upgradeWith(deps.frontend, req, socket, head, target.path + target.query, undefined, deps.api);
    } catch (err) {
      refuse(err);
    }
  }

  return { request, upgrade };
}

/** Paths the gateway answers itself even when a frontend dev server takes everything else. */
function isGatewayPath(path: string): boolean {
  return path === '/auth' || path.startsWith('/auth/') || path === '/healthz' || path === '/readyz';
}
