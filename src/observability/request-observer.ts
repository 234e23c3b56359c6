import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export type RequestObserver = (
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  path: string,
) => void;

/**
 * The request line and the request metrics of the /api front door, written when the answer ends: the
 * same fields as the Express request log (method, path without the query, status, duration), plus the
 * route prefix. The lines hold only those fixed fields, so they skip the redaction pass; below `info`
 * nothing is built at all. Metric children are looked up once per label set, not per request.
 */
export function requestObserver(logger: Logger, metrics: Metrics): RequestObserver {
  const log = logger.isLevelEnabled('info') ? logger.child({}, { redact: [] }) : undefined;
  const timers = new Map<string, (seconds: number) => void>();
  const counters = new Map<string, () => void>();
  const timer = (route: string, method: string) => {
    const key = `${route} ${method}`;
    let observe = timers.get(key);
    if (!observe) {
      const child = metrics.httpDuration.labels(route, method);
      timers.set(key, (observe = (seconds) => child.observe(seconds)));
    }
    return observe;
  };
  const counter = (route: string, method: string, status: number) => {
    const key = `${route} ${method} ${status}`;
    let inc = counters.get(key);
    if (!inc) {
      const child = metrics.httpRequests.labels(route, method, String(status));
      counters.set(key, (inc = () => child.inc()));
    }
    return inc;
  };

  return (req, res, route, path) => {
    const started = performance.now();
    res.once('close', () => {
      const ms = performance.now() - started;
      const method = req.method ?? '';
      const status = res.statusCode;
      timer(route, method)(ms / 1000);
      counter(route, method, status)();
      if (!log) return;
      const fields = {
        req: { method, path },
        res: { statusCode: status },
        responseTime: Math.round(ms),
        route,
      };
      if (!res.writableFinished) log.warn(fields, 'request aborted');
      else if (status >= 500) log.warn(fields, 'request completed');
      else log.info(fields, 'request completed');
    });
  };
}
