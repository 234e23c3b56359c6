import express, { type Express } from 'express';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server } from 'node:http';
import type { GatewayConfig } from './config/types.js';
import { NotFoundError } from './errors.js';
import { buildGatewayParts, type GatewayParts, type PartsOptions } from './gateway-parts.js';
import { authRoutes } from './http/auth/routes.js';
import { answerClientError, endSocketWithError, errorHandler } from './http/error-handler.js';
import { staticFrontend } from './http/frontend.js';
import { healthRoutes } from './http/health.js';
import { guardPath } from './http/path-guard.js';
import { requestLog } from './http/request-log.js';
import { requestMetrics } from './http/request-metrics.js';
import { securityHeaders } from './http/security-headers.js';
import { statusRoute } from './http/status.js';
import { startMetricsServer } from './observability/metrics-server.js';
import { assembleFrontDoor } from './proxy/assemble.js';
import type { TrustFn } from './proxy/upstream-headers.js';
import { sessionMiddleware } from './session/cookie/express-session.js';
import { whenReady } from './session/store/redis-client.js';

export interface GatewayOptions extends PartsOptions {
  /** Clock for login expiry; tests move it to cross the 10-minute limit. */
  now?: () => number;
  /** How long in-flight requests and streams may run on after close() (default 10 s). */
  shutdownGraceMs?: number;
}

/** What the process (main.ts) needs: the gateway's parts stay inside (tests build their own, see below). */
export interface Gateway {
  /** The Express side (/auth, health, the frontend, 404): what the front door hands non-route requests. */
  app: Express;
  /** Starts discovery and listens on config.host:config.port. */
  listen(): Promise<Server>;
  /** Stops accepting, lets in-flight requests finish (bounded), closes Redis. */
  close(): Promise<void>;
}

/**
 * Composition root: wires Express and the server around the parts (gateway-parts.ts) and the front
 * door (proxy/assemble.ts). No request logic lives here. `parts` is for tests, which build them with
 * `buildGatewayParts(config, options)` to look into the store; the gateway owns and closes them.
 */
export function createGateway(
  config: GatewayConfig,
  options: GatewayOptions = {},
  parts: GatewayParts = buildGatewayParts(config, options),
): Gateway {
  const { logger, metrics, idp, redis, stores, records, cookies, sockets, terminator } = parts;
  let shuttingDown = false;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // Request lines are logged at info: below that level pino-http would only cost time.
  if (logger.isLevelEnabled('info')) app.use(requestLog(logger));
  app.use(requestMetrics(metrics));
  app.use(securityHeaders(config));
  app.use(guardPath);
  app.use(healthRoutes(stores.kv, idp, () => shuttingDown));
  app.use(
    authRoutes(
      {
        config,
        idp,
        pendingLogins: parts.pendingLogins,
        cookies,
        kv: stores.kv,
        keys: parts.keys,
        logger,
        now: options.now ?? Date.now,
        loginRateLimit: parts.loginRateLimit,
        terminator,
        sessionIndex: parts.sessionIndex,
        metrics,
      },
      sessionMiddleware(config.session, parts.sessionStore, cookies),
      parts.logoutTokens,
    ),
  );
  if (config.frontend.dir) app.use(staticFrontend(config.frontend.dir));
  else if (!config.frontend.url) {
    const { cookieName, secrets } = config.session;
    app.get('/', statusRoute({ records, cookieName, secrets }));
  }
  app.use((_req, _res, next) => next(new NotFoundError()));
  app.use(errorHandler(logger, metrics, cookies));

  const door = assembleFrontDoor(config, parts, {
    fallback: app as unknown as http.RequestListener,
    trustProxy: app.get('trust proxy fn') as TrustFn,
  });

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  return {
    app,
    async listen() {
      idp.start();
      // Commands are not queued while Redis connects: give it a moment so the first requests after
      // start-up do not fail, but start anyway (answering 503) if it is not there.
      if (redis) await whenReady(redis, 3_000);
      if (config.metrics.port !== undefined)
        metricsServer = await startMetricsServer(metrics, config.host, config.metrics.port);
      const s = http.createServer(door.request);
      s.on('upgrade', door.upgrade);
      s.on('clientError', answerClientError);
      // CONNECT (a forward-proxy tunnel) is never ours to open: a JSON 400, not a silently closed socket.
      s.on('connect', (_req, socket: Duplex) =>
        endSocketWithError(socket, 400, 'bad_request', 'CONNECT is not supported.'),
      );
      server = s;
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(config.port, config.host, () => {
          s.off('error', reject);
          resolve(s);
        });
      });
    },
    async close() {
      shuttingDown = true;
      idp.stop();
      terminator.stop();
      sockets.closeAll();
      await Promise.all([
        server ? closeServer(server, options.shutdownGraceMs ?? 10_000) : undefined,
        metricsServer ? closeServer(metricsServer, 1_000) : undefined,
      ]);
      door.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
