import type { IncomingMessage } from 'node:http';
import type { RouteConfig, RoutePolicy } from '../config/types.js';
import {
  BadRequestError,
  CsrfRequiredError,
  MethodNotAllowedError,
  UnauthenticatedError,
} from '../errors.js';
import type { LoadedSession } from '../session/records/session-records.js';
import { checkRoutePolicy } from './route-policy.js';

// The checks of a proxied request, in the contract's order (proxy/api-pipeline.ts runs them). Each does
// one check and throws the contract's error; none knows the next.

/** 405 for methods outside the route's allow-list; GET allows HEAD. */
export function checkMethod(method: string, route: RouteConfig): void {
  const { methods } = route;
  if (!methods || methods.includes(method) || (method === 'HEAD' && methods.includes('GET'))) return;
  throw new MethodNotAllowedError(
    methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : methods,
  );
}

/** `X-CSRF: 1` on routes with csrf: true (it forces a CORS preflight, which the gateway never approves). */
export function requireCsrfHeader(req: IncomingMessage, route: RouteConfig): void {
  if (route.csrf && req.headers['x-csrf'] !== '1') throw new CsrfRequiredError();
}

/**
 * A plain request must not ask to switch protocols (`Upgrade: h2c` and friends). Node hands real upgrade
 * requests (with `Connection: Upgrade`) to the upgrade handler; this refuses the rest before any
 * session or token work.
 */
export function refuseUpgradeHeader(req: IncomingMessage): void {
  if (req.headers.upgrade !== undefined)
    throw new BadRequestError('Protocol upgrades other than WebSocket are not supported.');
}

/** A WebSocket handshake is a GET with `Upgrade: websocket`; anything else is refused before session work. */
export function requireWebSocketUpgrade(req: IncomingMessage): void {
  if (req.method !== 'GET' || req.headers.upgrade?.trim().toLowerCase() !== 'websocket')
    throw new BadRequestError('Only WebSocket upgrades on GET are supported.');
}

/** WebSockets cannot carry X-CSRF: the handshake's Origin must be the gateway's own instead. */
export function requireOwnOrigin(req: IncomingMessage, publicOrigin: string): void {
  if (req.headers.origin !== publicOrigin)
    throw new CsrfRequiredError("WebSocket upgrades must come from the gateway's own origin.");
}

/**
 * The route's `require` against the session's claims: 403 `forbidden` or 401 `step_up_required`
 * (route-policy.ts). A policy needs a user: no session is 401 `unauthenticated`, on optional routes too.
 */
export function checkPolicy(policy: RoutePolicy, session: LoadedSession | undefined): void {
  if (session === undefined) throw new UnauthenticatedError();
  checkRoutePolicy(policy, session.record.claims, Date.now());
}
