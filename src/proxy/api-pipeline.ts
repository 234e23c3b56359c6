import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RouteConfig } from '../config/types.js';
import { NotFoundError } from '../errors.js';
import type { DpopBinding, UpstreamDpop } from './dpop-proof.js';
import type { Forwarder } from './forward.js';
import type { RouteMatch } from './route-table.js';
import type { SessionSockets } from './session-sockets.js';
import {
  checkMethod,
  checkPolicy,
  refuseUpgradeHeader,
  requireCsrfHeader,
  requireOwnOrigin,
} from './steps.js';
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
  /** OIDC_DPOP's upstream proofs; undefined (and never looked at again) without it. */
  dpop?: UpstreamDpop | undefined;
}

/**
 * The /api pipeline for a matched route, in the contract's order (the front door has already run the
 * path guard, the framing check and the route match):
 *
 *   method (405) -> no stray Upgrade (400) -> anti-forgery (403) -> session (401)
 *   -> the route's policy, if any (403 forbidden, 401 step_up_required)
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
  forwardWith(
    deps.forwarders.get(route)!,
    req,
    res,
    match.upstreamUrl,
    framing,
    authorization?.value,
    deps,
    authorization?.dpop,
  );
}

/** Builds the upstream request's headers and hands the request to `forwarder`. */
export function forwardWith(
  forwarder: Forwarder,
  req: IncomingMessage,
  res: ServerResponse,
  upstreamUrl: string,
  framing: Framing,
  authorization: string | undefined,
  deps: ApiPipelineDeps,
  dpop?: DpopBinding,
): void {
  const headers = headersFor(forwarder, req, framing, authorization, deps);
  forwarder.forward(req, res, upstreamUrl, headers, framing, dpop);
}

/**
 * The same for a WebSocket handshake (the front door has checked that it is a GET WebSocket upgrade):
 *
 *   websocket route (404) -> method (405) -> Origin instead of X-CSRF (403) -> session (401)
 *   -> policy (403/401) -> fresh token -> the route's token -> headers -> upgrade; the socket closes
 *   with its session
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
  upgradeWith(
    deps.forwarders.get(route)!,
    req,
    socket,
    head,
    match.upstreamUrl,
    authorization?.value,
    deps,
    authorization?.dpop,
  );
}

/** The same for a WebSocket handshake: its headers carry `Connection: Upgrade` exactly. */
export function upgradeWith(
  forwarder: Forwarder,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  upstreamUrl: string,
  authorization: string | undefined,
  deps: ApiPipelineDeps,
  dpop?: DpopBinding,
): void {
  const headers = headersFor(forwarder, req, undefined, authorization, deps);
  forwarder.upgrade(req, socket, head, upstreamUrl, headers, dpop);
}

/** The contract's request headers for `forwarder`'s upstream; no framing means a WebSocket handshake. */
function headersFor(
  forwarder: Forwarder,
  req: IncomingMessage,
  framing: Framing | undefined,
  authorization: string | undefined,
  deps: ApiPipelineDeps,
): string[] {
  return upstreamRequestHeaders(req, {
    upstreamHost: forwarder.upstreamHost,
    framing: framing ?? { kind: 'none' },
    authorization,
    gatewayCookies: deps.gatewayCookies,
    trustProxy: deps.trustProxy,
    publicHost: deps.publicHost,
    upgrade: framing === undefined,
  });
}

/**
 * session (401) -> policy -> fresh token -> the route's token, as the `Authorization` value (or none).
 * The policy sees the session as stored, before any token work: a refused request costs the IdP nothing.
 */
async function routeAuthorization(
  req: IncomingMessage,
  route: RouteConfig,
  deps: ApiPipelineDeps,
): Promise<{ value: string | undefined; sid: string | undefined; dpop?: DpopBinding } | undefined> {
  const loaded = await deps.access.session(req, route);
  // Routes without a policy (most) pay this one comparison, nothing else.
  if (route.require !== undefined) checkPolicy(route.require, loaded);
  const session = loaded && (await deps.access.fresh(loaded));
  const token = await deps.access.token(route, session);
  if (token === undefined && session === undefined) return undefined;
  if (token === undefined) return { value: undefined, sid: session?.sid };
  // OIDC_DPOP: a DPoP-bound token goes with a proof of its key (forward.ts signs one per request).
  const dpop = deps.dpop?.binding(route, session, token);
  if (dpop !== undefined) return { value: `DPoP ${token}`, sid: session?.sid, dpop };
  return { value: `Bearer ${token}`, sid: session?.sid };
}
