import session from 'express-session';
import { SessionStoreUnavailableError } from '../http/errors.js';
import type { StoreKeys } from './keys.js';
import { isLive, storeExpiry } from './record.js';
import type { Vault } from './vault.js';

/** What the inner store (connect-redis or express-session's MemoryStore) holds per session. */
interface StoredEnvelope {
  /** Only for the inner store's TTL: it expires keys at `cookie.expires`. */
  cookie: { expires: string | Date };
  /** The whole session, sealed with a key bound to the session id. */
  sealed: string;
}

const PURPOSE = 'session';
type Callback<T> = (err?: unknown, value?: T) => void;

/**
 * express-session store that never lets a session id or a token reach the inner store: the key is a hash
 * of the session id and the value is sealed with a key derived from the session id.
 * No `touch`: sliding is done lazily by the gateway (session/record.ts), so an unchanged session costs
 * no write at all.
 */
export class SealedSessionStore extends session.Store {
  constructor(
    private readonly inner: session.Store,
    private readonly vault: Vault,
    private readonly keys: StoreKeys,
  ) {
    super();
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.inner.get(this.keys.sessionStoreId(sid), (err, stored) => {
      if (err) return callback(new SessionStoreUnavailableError(undefined, { cause: err }));
      callback(undefined, this.unseal(sid, stored as unknown as StoredEnvelope | null | undefined));
    });
  }

  override set(sid: string, data: session.SessionData, callback?: Callback<void>): void {
    if (!data.bff) {
      // Only signed-in sessions are ever stored; anything else is a programming error.
      callback?.(new Error('refusing to store a session without a record'));
      return;
    }
    const envelope: StoredEnvelope = {
      cookie: { expires: new Date(storeExpiry(data.bff)) },
      sealed: this.vault.seal(JSON.stringify(data), sid, PURPOSE),
    };
    this.inner.set(this.keys.sessionStoreId(sid), envelope as unknown as session.SessionData, (err) =>
      callback?.(err ? new SessionStoreUnavailableError(undefined, { cause: err }) : undefined),
    );
  }

  override destroy(sid: string, callback?: Callback<void>): void {
    this.inner.destroy(this.keys.sessionStoreId(sid), (err) =>
      callback?.(err ? new SessionStoreUnavailableError(undefined, { cause: err }) : undefined),
    );
  }

  /** Promise form of `get`, for code outside express-session (the /api hot path). */
  read(sid: string): Promise<session.SessionData | null> {
    return new Promise((resolve, reject) =>
      this.get(sid, (err, data) => (err ? reject(err) : resolve(data ?? null))),
    );
  }

  private unseal(sid: string, stored: StoredEnvelope | null | undefined): session.SessionData | null {
    if (!stored || typeof stored.sealed !== 'string') return null;
    const plain = this.vault.open(stored.sealed, sid, PURPOSE);
    if (plain === undefined) return null;
    const data = JSON.parse(plain) as session.SessionData;
    if (!data.bff || !isLive(data.bff, Date.now())) return null;
    return data;
  }
}
