import type { GatewayConfig } from '../../config/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { IdentityProvider } from '../../oidc/provider.js';
import type { CookieRules } from '../../session/cookie/cookie-rules.js';
import type { KvStore } from '../../session/store/kv-store.js';
import type { PendingLogins } from '../../session/pending-logins.js';
import type { StoreKeys } from '../../session/store/keys.js';
import type { LoginRateLimiter } from './rate-limit.js';
import type { SessionIndex } from '../../session/backchannel-index.js';
import type { SessionTerminator } from '../../session/session-terminator.js';

/** What the /auth handlers need; passed explicitly, no globals. */
export interface AuthDeps {
  /** The sections the /auth handlers read (the return-to origin, the callback URL, the IdP, cookies). */
  config: Pick<GatewayConfig, 'publicUrl' | 'redirectUri' | 'oidc' | 'session' | 'routes'>;
  idp: IdentityProvider;
  pendingLogins: PendingLogins;
  cookies: CookieRules;
  kv: KvStore;
  keys: StoreKeys;
  logger: Logger;
  now: () => number;
  /** RATE_LIMIT_LOGIN: login starts and callbacks per client IP per minute, counted in the store. */
  loginRateLimit: LoginRateLimiter;
  /** Ends sessions (logout, back-channel logout): store, index, sockets and metrics in one place. */
  terminator: SessionTerminator;
  /** The back-channel logout index, written at sign-in. */
  sessionIndex: SessionIndex;
  metrics: Metrics;
}
