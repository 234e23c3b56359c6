import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestHandler as ProxyHandler } from 'http-proxy-middleware';
import type { Request, Response } from 'express';
import type { RouteConfig } from '../config/types.js';
import { BadRequestError, CsrfRequiredError, NotFoundError, type GatewayError } from '../http/errors.js';
import { isSafePath } from '../http/path-guard.js';
import type { RouteTable } from './route-table.js';
import type { SessionSockets } from './session-sockets.js';
import type { UpstreamAccess } from './upstream-access.js';
import { applyUpstreamHeaders, type TrustFn } from './upstream-headers.js';

export interface WebSocketDeps {
  table: RouteTable;
  access: UpstreamAccess;
  forwarders: Map<RouteConfig, ProxyHandler<Request, Response>>;
  sockets: SessionSockets;
  publicOrigin: string;
  gatewayCookies: string[];
  trustProxy: TrustFn;
  /** FRONTEND_URL's proxy: upgrades outside the routes (a dev server's hot reload) go there. */
  frontendUpgrade: ((req: IncomingMessage, socket: Socket, head: Buffer) => void) | undefined;
  /** Maps any error to the contract's error (and logs it), as for HTTP requests. */
  toGatewayError: (err: unknown, context: Record<string, unknown>) => GatewayError;
}

/**
 * WebSocket upgrades on `websocket: true` routes, with the same path guard, session and token rules as
 * HTTP. Browsers cannot add X-CSRF to a WebSocket, so the `Origin` must be the gateway's own instead.
 * A refusal is an HTTP error on the socket, never a 101; an upstream refusal passes through as such.
 */
export function handleUpgrade(deps: WebSocketDeps) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    void upgrade(deps, req, socket, head).catch((err: unknown) => {
      refuse(
        socket,
        deps.toGatewayError(err, {
          method: req.method,
          path: (req.url ?? '').split('?')[0],
          websocket: true,
        }),
      );
    });
  };
}

async function upgrade(
  deps: WebSocketDeps,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const url = req.url ?? '/';
  if (!isSafePath(url.split('?')[0]!)) throw new BadRequestError('Malformed path.');
  const match = deps.table.match(url);
  const toFrontend = !match && deps.frontendUpgrade !== undefined && !url.startsWith('/auth/');
  if (!toFrontend && !match?.route.websocket) throw new NotFoundError('No WebSocket route here.');
  if (req.headers.origin !== deps.publicOrigin)
    throw new CsrfRequiredError("WebSocket upgrades must come from the gateway's own origin.");
  // Node hands 'upgrade' listeners a net.Socket, typed as its Duplex base.
  if (!match) return deps.frontendUpgrade!(req, socket as Socket, head);

  const loaded = await deps.access.session(req, match.route);
  const session = loaded ? await deps.access.fresh(loaded) : undefined;
  const token = await deps.access.token(match.route, session);
  applyUpstreamHeaders(req, {
    token,
    gatewayCookies: deps.gatewayCookies,
    trustProxy: deps.trustProxy,
    upgrade: true,
  });
  req.url = match.upstreamUrl;
  if (socket.destroyed) return;
  if (session) deps.sockets.add(session.sid, socket);
  deps.forwarders.get(match.route)!.upgrade(req, socket as Socket, head);
}

function refuse(socket: Duplex, err: GatewayError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: err.code, message: err.message });
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
