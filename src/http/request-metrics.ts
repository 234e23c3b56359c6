import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../observability/metrics.js';

/**
 * Counts and times every answer Express gives, labelled by endpoint (a bounded set, never the raw path).
 * Routes are counted by the front door (observability/request-observer.ts).
 */
export function requestMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const stop = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const endpoint = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof endpoint === 'string' ? endpoint : 'other';
      stop({ route, method: req.method });
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
    });
    next();
  };
}
