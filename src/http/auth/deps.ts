import type { GatewayConfig } from '../../config/types.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { IdentityProvider } from '../../oidc/provider.js';
import type { CookieRules } from '../../session/cookies.js';
import type { KvStore } from '../../session/kv-store.js';
import type { PendingLogins } from '../../session/pending-logins.js';
import type { StoreKeys } from '../../session/keys.js';
import type { LoginRateLimiter } from './rate-limit.js';
import type { SessionRecord } from '../../session/record.js';
import type { SessionIndex } from '../../session/session-index.js';
import type { SessionRecords } from '../../session/session-records.js';

/** What the /auth handlers need; passed explicitly, no globals. */
export interface AuthDeps {
  config: GatewayConfig;
  idp: IdentityProvider;
  pendingLogins: PendingLogins;
  cookies: CookieRules;
  kv: KvStore;
  /** The stored sessions (logout takes one out atomically). */
  records: SessionRecords;
  keys: StoreKeys;
  logger: Logger;
  now: () => number;
  /** RATE_LIMIT_LOGIN: login starts and callbacks per client IP per minute, counted in the store. */
  loginRateLimit: LoginRateLimiter;
  /** Told when a session ends here: its WebSockets are closed and its index entries removed. */
  onSessionEnded: (sid: string, record: SessionRecord) => void;
  /** Told when a session known only by its hash ends (back-channel logout). */
  onSessionHashEnded: (sessionHash: string) => void;
  sessionIndex: SessionIndex;
  metrics: Metrics;
}
