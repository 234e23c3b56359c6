import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { RouteConfig } from '../config/types.js';
import type { RouteTable } from './route-table.js';
import {
  checkMethod,
  ensureFreshToken,
  loadSession,
  matchRoute,
  prepareUpstreamRequest,
  requireCsrfHeader,
} from './steps.js';
import { proxyState } from './state.js';

type Step = (req: Request, res: Response) => Promise<void>;

/** Lets an async step end in `next()` or `next(err)` without each step repeating it. */
function step(fn: Step): RequestHandler {
  return (req, res, next) => {
    fn(req, res).then(() => next(), next);
  };
}

export interface ApiPipelineParts {
  table: RouteTable;
  loadSession: ReturnType<typeof loadSession>;
  ensureFreshToken: ReturnType<typeof ensureFreshToken>;
  prepareUpstreamRequest: ReturnType<typeof prepareUpstreamRequest>;
  forwarders: Map<RouteConfig, RequestHandler>;
}

/**
 * The /api pipeline, in order (the path guard runs before it, for every request):
 *
 *   matchRoute -> checkMethod (405) -> requireCsrfHeader (403) -> loadSession (401)
 *   -> ensureFreshToken (refresh, 401/503) -> prepareUpstreamRequest (token, headers, path) -> forward
 */
export function apiPipeline(parts: ApiPipelineParts): Router {
  const router = Router();
  router.use(
    matchRoute(parts.table),
    checkMethod,
    requireCsrfHeader,
    step(parts.loadSession),
    step(parts.ensureFreshToken),
    step(parts.prepareUpstreamRequest),
    (req: Request, res: Response, next: NextFunction) =>
      parts.forwarders.get(proxyState(res).match.route)!(req, res, next),
  );
  return router;
}
