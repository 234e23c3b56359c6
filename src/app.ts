import express, { type Express } from 'express';
import http, { type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server } from 'node:http';
import type { GatewayConfig } from './config/types.js';
import { LoginRateLimiter } from './http/auth/rate-limit.js';
import { authRoutes } from './http/auth/routes.js';
import {
  answerClientError,
  endSocketWithError,
  errorHandler,
  refuseUpgrade,
  toGatewayError,
  writeError,
} from './http/error-handler.js';
import { NotFoundError, type GatewayError } from './errors.js';
import { staticFrontend } from './http/frontend.js';
import { statusRoute } from './http/status.js';
import { healthRoutes } from './http/health.js';
import { requestMetrics } from './http/request-metrics.js';
import { guardPath } from './http/path-guard.js';
import { requestLog } from './http/request-log.js';
import { securityHeaderList, securityHeaders } from './http/security-headers.js';
import { createLogger, type Logger } from './observability/logger.js';
import { requestObserver } from './observability/request-observer.js';
import { Metrics } from './observability/metrics.js';
import { startMetricsServer } from './observability/metrics-server.js';
import { ClientCredentials } from './oidc/client-credentials.js';
import { LogoutTokenValidator } from './oidc/logout-token.js';
import { IdentityProvider } from './oidc/provider.js';
import { IdpRefreshGrant } from './oidc/refresh-grant.js';
import { createUpstreamAgents } from './proxy/forward.js';
import { createForwarders } from './proxy/forwarders.js';
import { frontDoor } from './proxy/front-door.js';
import { RouteTable } from './proxy/route-table.js';
import { SessionSockets } from './proxy/session-sockets.js';
import { UpstreamAccess } from './proxy/upstream-access.js';
import type { TrustFn } from './proxy/upstream-headers.js';
import { CookieRules } from './session/cookies.js';
import { sessionMiddleware } from './session/express-session.js';
import { StoreKeys } from './session/keys.js';
import type { KvStore } from './session/kv-store.js';
import { createStores, type Stores } from './session/stores.js';
import { PendingLogins } from './session/pending-logins.js';
import { createRedisClient, whenReady, watchRedis, type RedisClient } from './session/redis-client.js';
import { RefreshGrace } from './session/refresh/refresh-grace.js';
import { StoreRefreshLocks } from './session/refresh/refresh-lock.js';
import { SessionRefresher } from './session/refresh/session-refresher.js';
import { SessionIndex } from './session/session-index.js';
import { SessionRecords } from './session/session-records.js';
import { SealedSessionStore } from './session/session-store.js';
import { SessionTerminator } from './session/session-terminator.js';
import { Vault } from './session/vault.js';

export interface GatewayOptions {
  /** A registry of your own (tests); default: a new one. */
  metrics?: Metrics;
  logger?: Logger;
  /** Clock for login expiry; tests move it to cross the 10-minute limit. */
  now?: () => number;
  /** How long in-flight requests and streams may run on after close() (default 10 s). */
  shutdownGraceMs?: number;
  /** Login starts and callbacks per client IP per minute (default: config.rateLimit.login). */
  loginRateLimit?: number;
}

export interface Gateway {
  app: Express;
  config: GatewayConfig;
  logger: Logger;
  idp: IdentityProvider;
  redis: RedisClient | undefined;
  kv: KvStore;
  /** The generic store (`kv`) and the domain stores, on one keyspace. */
  stores: Stores;
  sessionStore: SealedSessionStore;
  records: SessionRecords;
  sockets: SessionSockets;
  vault: Vault;
  keys: StoreKeys;
  metrics: Metrics;
  /** Starts discovery and listens on config.host:config.port. */
  listen(): Promise<Server>;
  /** Stops accepting, lets in-flight requests finish (bounded), closes Redis. */
  close(): Promise<void>;
}

/** Composition root: builds the parts and wires the pipelines. No request logic lives here. */
export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  const logger = options.logger ?? createLogger(config.logLevel);
  for (const warning of config.warnings) logger.warn(warning);
  if (config.session.secure && config.trustProxy === false) {
    logger.warn(
      'BFF_PUBLIC_URL is https but TRUST_PROXY is off: behind a TLS-terminating proxy, set TRUST_PROXY so the Secure session cookie is issued.',
    );
  }

  const keys = new StoreKeys(config.redis.keyPrefix);
  const vault = new Vault(config.tokens.encryptionKeys);
  const redis = createRedisClient(config.redis);
  if (redis) watchRedis(redis, logger);
  const stores = createStores(redis);
  const { kv } = stores;
  const records = new SessionRecords(kv, vault, keys);
  const sessionStore = new SealedSessionStore(records);
  const cookies = new CookieRules(config.session);
  const gatewayCookies = [config.session.cookieName, config.session.loginCookieName];
  const sockets = new SessionSockets((sid) => keys.sessionHash(sid));
  const metrics = options.metrics ?? new Metrics(() => sockets.count);
  const idp = new IdentityProvider(config.oidc, logger, metrics);
  const pendingLogins = new PendingLogins(stores.pendingLogins, vault, keys);
  const sessionIndex = new SessionIndex(stores, keys, config.oidc.issuer, config.session.maxAgeMs);
  // Logout, refresh, back-channel logout and expiry end sessions here; open WebSockets are told.
  const terminator = new SessionTerminator({ records, index: sessionIndex, kv, keys, metrics, logger }, [
    sockets,
  ]);
  const refresher = new SessionRefresher({
    records,
    locks: new StoreRefreshLocks(kv, keys, logger),
    grace: new RefreshGrace(kv, keys, vault),
    grant: new IdpRefreshGrant(idp, logger),
    terminator,
    logger,
    metrics,
    refreshSkewMs: config.tokens.refreshSkewMs,
  });
  const access = new UpstreamAccess(
    config,
    records,
    refresher,
    new ClientCredentials(idp, config.tokens.refreshSkewMs, logger),
  );
  const table = new RouteTable(config.routes);
  const agents = createUpstreamAgents();
  const apiSecurityHeaders = securityHeaderList(config);
  // The front door's and the forwarders' own answers (400, 401, 502, ...) carry the security headers too.
  const writeApiError = (res: ServerResponse, err: GatewayError) => {
    for (let i = 0; i < apiSecurityHeaders.length; i += 2)
      res.setHeader(apiSecurityHeaders[i]!, apiSecurityHeaders[i + 1]!);
    writeError(res, err, cookies);
  };
  const { routes: forwarders, frontend } = createForwarders(
    config,
    {
      metrics,
      agents,
      gatewayCookies,
      logger,
      writeError: writeApiError,
      refuseUpgrade,
    },
    apiSecurityHeaders,
  );
  let shuttingDown = false;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // Request lines are logged at info: below that level pino-http would only cost time.
  if (logger.isLevelEnabled('info')) app.use(requestLog(logger));
  app.use(requestMetrics(metrics));
  app.use(securityHeaders(config));
  app.use(guardPath);
  app.use(healthRoutes(kv, idp, () => shuttingDown));
  app.use(
    authRoutes(
      {
        config,
        idp,
        pendingLogins,
        cookies,
        kv,
        keys,
        logger,
        now: options.now ?? Date.now,
        loginRateLimit: new LoginRateLimiter(
          stores.rateLimits,
          keys,
          options.loginRateLimit ?? config.rateLimit.login,
        ),
        terminator,
        sessionIndex,
        metrics,
      },
      sessionMiddleware(config, sessionStore, cookies),
      new LogoutTokenValidator(idp, config.oidc),
    ),
  );
  if (config.frontend.dir) app.use(staticFrontend(config.frontend.dir));
  else if (!config.frontend.url) {
    const { cookieName, secrets } = config.session;
    app.get('/', statusRoute({ records, cookieName, secrets }));
  }
  app.use((_req, _res, next) => next(new NotFoundError()));
  app.use(errorHandler(logger, metrics, cookies));

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  return {
    app,
    config,
    logger,
    idp,
    redis,
    kv,
    stores,
    sessionStore,
    records,
    sockets,
    vault,
    keys,
    metrics,
    async listen() {
      idp.start();
      // Commands are not queued while Redis connects: give it a moment so the first requests after
      // start-up do not fail, but start anyway (answering 503) if it is not there.
      if (redis) await whenReady(redis, 3_000);
      if (config.metrics.port !== undefined)
        metricsServer = await startMetricsServer(metrics, config.host, config.metrics.port);
      const door = frontDoor({
        table,
        api: {
          access,
          forwarders,
          sockets,
          gatewayCookies,
          trustProxy: app.get('trust proxy fn') as TrustFn,
          publicOrigin: new URL(config.publicUrl).origin,
          publicHost: new URL(config.publicUrl).host,
        },
        fallback: app as unknown as http.RequestListener,
        frontend,
        observe: requestObserver(logger, metrics),
        toGatewayError: (err, context) => toGatewayError(err, logger, metrics, context),
        writeError: writeApiError,
        refuseUpgrade,
      });
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
      agents.http.destroy();
      agents.https.destroy();
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
