import { hashId } from './vault.js';

/**
 * Every key the gateway writes. Keys that are read or written together share a Redis Cluster hash tag
 * (`{...}`), and no key contains a browser's id in the clear, only its hash.
 */
export class StoreKeys {
  constructor(readonly prefix: string) {}

  /** The id express-session's store sees for a session; connect-redis prepends `sessionPrefix`. */
  sessionStoreId(sessionId: string): string {
    return `${hashId(sessionId)}}:session`;
  }
  get sessionPrefix(): string {
    return `${this.prefix}{`;
  }
  session(sessionId: string): string {
    return this.sessionPrefix + this.sessionStoreId(sessionId);
  }

  /** The cross-instance refresh lock of one session (same hash slot as the session). */
  refreshLock(sessionId: string): string {
    return `${this.prefix}{${hashId(sessionId)}}:refresh-lock`;
  }
  /** The result of a refresh, kept briefly under a hash of the refresh token it spent. */
  refreshGrace(sessionId: string, spentRefreshToken: string): string {
    return `${this.prefix}{${hashId(sessionId)}}:refresh-grace:${hashId(spentRefreshToken)}`;
  }

  /** Pending logins of one browser (its login cookie), one key per `state` plus an index for eviction. */
  pendingLogin(loginId: string, state: string): string {
    return `${this.prefix}{${hashId(loginId)}}:login:${hashId(state)}`;
  }
  pendingLoginIndex(loginId: string): string {
    return `${this.prefix}{${hashId(loginId)}}:logins`;
  }

  loginRateLimit(client: string): string {
    return `${this.prefix}ratelimit:login:${hashId(client)}`;
  }
}
