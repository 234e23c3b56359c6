import type { StoreKeys } from './store/keys.js';
import type { PendingLoginStore } from './store/pending-login-store.js';
import type { Vault } from './vault.js';

/** One sign-in attempt between /auth/login and /auth/callback. */
export interface PendingLogin {
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  createdAt: number;
  /**
   * The sign-in options sent to the IdP, for the callback: a `prompt=none` failure returns to
   * `returnTo`, and a `max_age` is checked against the ID token's `auth_time`. Absent in attempts
   * started before these options existed.
   */
  options?: { prompt?: string; acrValues?: string; maxAge?: number };
}

export const LOGIN_LIFETIME_MS = 10 * 60_000;
export const MAX_PENDING_LOGINS = 5;
/** Kept a little past its lifetime so a late callback is told `login_expired`, not `invalid_state`. */
const STORE_TTL_MS = LOGIN_LIFETIME_MS + 5 * 60_000;
const PURPOSE = 'pending-login';

/**
 * Pending logins, keyed by `state` under the browser's login cookie: two tabs never overwrite each
 * other, each attempt is usable once, at most five per browser (the oldest is evicted). Sealed with a
 * key bound to the login cookie, so the PKCE verifier is useless to anyone without that cookie.
 */
export class PendingLogins {
  constructor(
    private readonly store: PendingLoginStore,
    private readonly vault: Vault,
    private readonly keys: StoreKeys,
  ) {}

  async add(loginId: string, state: string, login: PendingLogin): Promise<void> {
    const sealed = this.vault.seal(JSON.stringify(login), `${loginId}.${state}`, PURPOSE);
    await this.store.put(
      this.keys.pendingLoginIndex(loginId),
      this.keys.pendingLogin(loginId, state),
      sealed,
      STORE_TTL_MS,
      MAX_PENDING_LOGINS,
    );
  }

  /** Removes and returns the attempt; undefined when unknown, already used, evicted or foreign. */
  async take(loginId: string, state: string): Promise<PendingLogin | undefined> {
    const sealed = await this.store.take(
      this.keys.pendingLoginIndex(loginId),
      this.keys.pendingLogin(loginId, state),
    );
    if (sealed === null) return undefined;
    const plain = this.vault.open(sealed, `${loginId}.${state}`, PURPOSE);
    return plain === undefined ? undefined : (JSON.parse(plain) as PendingLogin);
  }
}
