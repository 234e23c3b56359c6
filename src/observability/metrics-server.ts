import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';

/**
 * The metrics listener could not be opened: main() names METRICS_PORT (not PORT) in its one line.
 * `code` is the system error's (`EADDRINUSE`, `EACCES`, ...).
 */
export class MetricsListenError extends Error {
  readonly code: string | undefined;

  constructor(cause: NodeJS.ErrnoException) {
    super(cause.message, { cause });
    this.name = 'MetricsListenError';
    this.code = cause.code;
  }
}

/** `/metrics` on its own listener (METRICS_PORT), never on the public one. */
export function startMetricsServer(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new MetricsListenError(err)));
    server.listen(port, host, () => resolve(server));
  });
}
