import type { NextFunction, Request, Response } from 'express';
import { CsrfRequiredError, MethodNotAllowedError } from '../http/errors.js';
import type { RouteTable } from './route-table.js';
import { proxyState } from './state.js';
import type { UpstreamAccess } from './upstream-access.js';
import { applyUpstreamHeaders, type TrustFn } from './upstream-headers.js';

// The /api pipeline's steps, in order (proxy/pipeline.ts lists them). Each does one check or one
// lookup and passes on; none knows the next.

/** Finds the route; requests that match none leave the pipeline (frontend, 404). */
export function matchRoute(table: RouteTable) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const match = table.match(req.originalUrl);
    if (!match) return next('router');
    res.locals.proxy = { match };
    next();
  };
}

/** 405 for methods outside the route's allow-list; GET allows HEAD. */
export function checkMethod(req: Request, res: Response, next: NextFunction): void {
  const { methods } = proxyState(res).match.route;
  if (!methods || methods.includes(req.method) || (req.method === 'HEAD' && methods.includes('GET')))
    return next();
  next(
    new MethodNotAllowedError(
      methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : methods,
    ),
  );
}

/** `X-CSRF: 1` on routes with csrf: true (it forces a CORS preflight, which the gateway never approves). */
export function requireCsrfHeader(req: Request, res: Response, next: NextFunction): void {
  if (!proxyState(res).match.route.csrf || req.headers['x-csrf'] === '1') return next();
  next(new CsrfRequiredError());
}

export function loadSession(access: UpstreamAccess) {
  return async (req: Request, res: Response): Promise<void> => {
    const state = proxyState(res);
    state.session = await access.session(req, state.match.route);
  };
}

export function ensureFreshToken(access: UpstreamAccess) {
  return async (_req: Request, res: Response): Promise<void> => {
    const state = proxyState(res);
    if (state.session) state.session = await access.fresh(state.session);
  };
}

/** Sets what the upstream receives: the route's token and the contract's header rules; maps the path. */
export function prepareUpstreamRequest(access: UpstreamAccess, gatewayCookies: string[]) {
  return async (req: Request, res: Response): Promise<void> => {
    const { match, session } = proxyState(res);
    const token = await access.token(match.route, session);
    applyUpstreamHeaders(req, {
      token,
      gatewayCookies,
      trustProxy: req.app.get('trust proxy fn') as TrustFn,
      upgrade: false,
    });
    req.url = match.upstreamUrl;
  };
}
