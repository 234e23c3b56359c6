import type { GatewayConfig } from '../../config/types.js';
import type { Logger } from '../../observability/logger.js';
import type { IdentityProvider } from '../../oidc/provider.js';
import type { CookieRules } from '../../session/cookies.js';
import type { KvStore } from '../../session/kv-store.js';
import type { PendingLogins } from '../../session/pending-logins.js';
import type { StoreKeys } from '../../session/keys.js';

/** What the /auth handlers need; passed explicitly, no globals. */
export interface AuthDeps {
  config: GatewayConfig;
  idp: IdentityProvider;
  pendingLogins: PendingLogins;
  cookies: CookieRules;
  kv: KvStore;
  keys: StoreKeys;
  logger: Logger;
  now: () => number;
  /** Login starts allowed per client IP per minute. */
  loginRateLimit: number;
  /** Told when a session ends here (its open WebSockets are closed). */
  onSessionEnded: (sid: string) => void;
}
