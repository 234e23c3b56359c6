import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { ProxyState } from '../proxy/state.js';

/** Counts and times every answer, labelled by route prefix or endpoint (a bounded set, never the raw path). */
export function requestMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const stop = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const proxied = (res.locals.proxy as ProxyState | undefined)?.match.route.prefix;
      const endpoint = (req.route as { path?: unknown } | undefined)?.path;
      const route = proxied ?? (typeof endpoint === 'string' ? endpoint : 'other');
      stop({ route, method: req.method });
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
    });
    next();
  };
}
