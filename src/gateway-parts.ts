import type { GatewayConfig } from './config/types.js';
import { LoginRateLimiter } from './http/auth/rate-limit.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { ClientCredentials } from './oidc/client-credentials.js';
import { LogoutTokenValidator } from './oidc/logout-token.js';
import { IdentityProvider } from './oidc/provider.js';
import { IdpRefreshGrant } from './oidc/refresh-grant.js';
import { IdpRouteTokenGrant } from './oidc/route-token-grant.js';
import { DpopProofs, UpstreamDpop } from './proxy/dpop-proof.js';
import { SessionSockets } from './proxy/session-sockets.js';
import { UpstreamAccess } from './proxy/upstream-access.js';
import { CookieRules } from './session/cookie/cookie-rules.js';
import { StoreKeys } from './session/store/keys.js';
import { PendingLogins } from './session/pending-logins.js';
import { createRedisClient, watchRedis, type RedisClient } from './session/store/redis-client.js';
import { RefreshGrace } from './session/refresh/refresh-grace.js';
import { StoreRefreshLocks } from './session/refresh/refresh-lock.js';
import { RouteTokens, routeTokenId } from './session/refresh/route-tokens.js';
import { SessionRefresher } from './session/refresh/session-refresher.js';
import { SessionIndex } from './session/backchannel-index.js';
import { SessionRecords } from './session/records/session-records.js';
import { SealedSessionStore } from './session/cookie/express-store.js';
import { SessionTerminator } from './session/session-terminator.js';
import { createStores, type Stores } from './session/store/stores.js';
import { Vault } from './session/vault.js';

/** What the caller may bring instead of the defaults (see `GatewayOptions` in app.ts). */
export interface PartsOptions {
  /** A registry of your own (tests); default: a new one. */
  metrics?: Metrics;
  logger?: Logger;
  /** Login starts and callbacks per client IP per minute (default: config.rateLimit.login). */
  loginRateLimit?: number;
}

/**
 * Everything the gateway is made of except Express and the servers: the store and the session layer,
 * the IdP, the /api pipeline's session and token decisions. Each part gets the config section it
 * reads. `createGateway` wires them; tests build them with `buildGatewayParts` and pass them in, so
 * they can look into the store (`records`, `keys`, `vault`) without the gateway exposing any of it.
 */
export interface GatewayParts {
  logger: Logger;
  metrics: Metrics;
  /** undefined with the in-memory store (no REDIS_URL, Cluster or Sentinel configured). */
  redis: RedisClient | undefined;
  /** The generic store (`stores.kv`) and the domain stores, on one keyspace. */
  stores: Stores;
  keys: StoreKeys;
  vault: Vault;
  records: SessionRecords;
  /** express-session's store (the callback and /auth/session), on the same records. */
  sessionStore: SealedSessionStore;
  cookies: CookieRules;
  /** Open WebSockets by session, closed when their session ends. */
  sockets: SessionSockets;
  idp: IdentityProvider;
  pendingLogins: PendingLogins;
  /** The back-channel logout index, written at sign-in. */
  sessionIndex: SessionIndex;
  /** Logout, refresh, back-channel logout and expiry end sessions here. */
  terminator: SessionTerminator;
  refresher: SessionRefresher;
  /** Session and token decisions of the /api pipeline (HTTP and WebSocket). */
  access: UpstreamAccess;
  /** OIDC_DPOP's proofs to upstreams; undefined without it. */
  dpop: UpstreamDpop | undefined;
  loginRateLimit: LoginRateLimiter;
  logoutTokens: LogoutTokenValidator;
}

/** Builds the parts; opens the Redis connection (commands wait for `listen`), contacts no IdP yet. */
export function buildGatewayParts(config: GatewayConfig, options: PartsOptions = {}): GatewayParts {
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
  const sockets = new SessionSockets((sid) => keys.sessionHash(sid));
  const metrics = options.metrics ?? new Metrics(() => sockets.count);
  const idp = new IdentityProvider(config.oidc, logger, metrics);
  const sessionIndex = new SessionIndex(stores, keys, config.oidc.issuer, config.session.maxAgeMs);
  // Open WebSockets are told when their session ends, whoever ends it.
  const routeTokenIds = [
    ...new Set(config.routes.map(routeTokenId).filter((id): id is string => id !== undefined)),
  ];
  const terminator = new SessionTerminator(
    { records, index: sessionIndex, kv, keys, metrics, logger, routeTokenIds },
    [sockets],
  );
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
  const routeTokens = new RouteTokens({
    kv,
    keys,
    vault,
    records,
    locks: new StoreRefreshLocks(kv, keys, logger),
    grace: new RefreshGrace(kv, keys, vault),
    grant: new IdpRouteTokenGrant(idp),
    refresher,
    terminator,
    logger,
    metrics,
    refreshSkewMs: config.tokens.refreshSkewMs,
  });
  const clientCredentials = new ClientCredentials(idp, config.tokens.refreshSkewMs, logger);
  const access = new UpstreamAccess(config.session, records, refresher, clientCredentials, routeTokens);
  return {
    logger,
    metrics,
    redis,
    stores,
    keys,
    vault,
    records,
    sessionStore: new SealedSessionStore(records),
    cookies: new CookieRules(config.session),
    sockets,
    idp,
    pendingLogins: new PendingLogins(stores.pendingLogins, vault, keys),
    sessionIndex,
    terminator,
    refresher,
    access,
    dpop:
      idp.dpop.gatewayKey === undefined
        ? undefined
        : new UpstreamDpop(new DpopProofs(), idp.dpop.gatewayKey, (token) =>
            clientCredentials.isDpopBound(token),
          ),
    loginRateLimit: new LoginRateLimiter(
      stores.rateLimits,
      keys,
      options.loginRateLimit ?? config.rateLimit.login,
    ),
    logoutTokens: new LogoutTokenValidator(idp, config.oidc),
  };
}
