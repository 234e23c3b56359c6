import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RouteConfig } from '../config/types.js';
import { NotFoundError } from '../http/errors.js';
import type { Forwarder } from './forward.js';
import type { RouteMatch } from './route-table.js';
import type { SessionSockets } from './session-sockets.js';
import { checkMethod, refuseUpgradeHeader, requireCsrfHeader, requireOwnOrigin } from './steps.js';
import type { UpstreamAccess } from './upstream-access.js';
import { upstreamRequestHeaders, type Framing, type TrustFn } from './upstream-headers.js';

export interface ApiPipelineDeps {
  access: UpstreamAccess;
  forwarders: ReadonlyMap<RouteConfig, Forwarder>;
  sockets: SessionSockets;
  gatewayCookies: readonly string[];
  trustProxy: TrustFn;
  /** `BFF_PUBLIC_URL`'s origin and host. */
  publicOrigin: string;
  publicHost: string;
}

/**
 * The /api pipeline for a matched route, in the contract's order (the front door has already run the
 * path guard, the framing check and the route match):
 *
 *   method (405) -> no stray Upgrade (400) -> anti-forgery (403) -> session (401)
 *   -> fresh token (refresh; 401/503) -> the route's token -> headers -> forward
 */
export async function proxyRequest(
  req: IncomingMessage,
  res: ServerResponse,
  match: RouteMatch,
  framing: Framing,
  deps: ApiPipelineDeps,
): Promise<void> {
  const { route } = match;
  checkMethod(req.method ?? '', route);
  refuseUpgradeHeader(req);
  requireCsrfHeader(req, route);
  const authorization = await routeAuthorization(req, route, deps);
  // The browser left while the session was read: nothing to forward (res 'close' has already fired).
  if (req.socket.destroyed) return;
  const forwarder = deps.forwarders.get(route)!;
  const headers = upstreamRequestHeaders(req, {
    upstreamHost: forwarder.upstreamHost,
    framing,
    authorization: authorization?.value,
    gatewayCookies: deps.gatewayCookies,
    trustProxy: deps.trustProxy,
    publicHost: deps.publicHost,
    upgrade: false,
  });
  forwarder.forward(req, res, match.upstreamUrl, headers, framing);
}

/**
 * The same for a WebSocket handshake (the front door has checked that it is a GET WebSocket upgrade):
 *
 *   websocket route (404) -> method (405) -> Origin instead of X-CSRF (403) -> session (401)
 *   -> fresh token -> the route's token -> headers -> upgrade; the socket closes with its session
 */
export async function proxyUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  match: RouteMatch,
  deps: ApiPipelineDeps,
): Promise<void> {
  const { route } = match;
  if (!route.websocket) throw new NotFoundError('No WebSocket route here.');
  checkMethod('GET', route);
  requireOwnOrigin(req, deps.publicOrigin);
  const authorization = await routeAuthorization(req, route, deps);
  if (socket.destroyed) return;
  if (authorization?.sid !== undefined) deps.sockets.add(authorization.sid, socket);
  const forwarder = deps.forwarders.get(route)!;
  const headers = upstreamRequestHeaders(req, {
    upstreamHost: forwarder.upstreamHost,
    framing: { kind: 'none' },
    authorization: authorization?.value,
    gatewayCookies: deps.gatewayCookies,
    trustProxy: deps.trustProxy,
    publicHost: deps.publicHost,
    upgrade: true,
  });
  forwarder.upgrade(req, socket, head, match.upstreamUrl, headers);
}

/** session (401) -> fresh token -> the route's token, as the `Authorization` value (or none). */
async function routeAuthorization(
  req: IncomingMessage,
  route: RouteConfig,
  deps: ApiPipelineDeps,
): Promise<{ value: string | undefined; sid: string | undefined } | undefined> {
  const loaded = await deps.access.session(req, route);
  const session = loaded && (await deps.access.fresh(loaded));
  const token = await deps.access.token(route, session);
  if (token === undefined && session === undefined) return undefined;
  return { value: token === undefined ? undefined : `Bearer ${token}`, sid: session?.sid };
}
