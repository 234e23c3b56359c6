import session from 'express-session';
import { SessionStoreUnavailableError } from '../http/errors.js';
import { sealSession, unsealSession } from './envelope.js';
import type { StoreKeys } from './keys.js';
import type { KvStore } from './kv-store.js';
import type { Vault } from './vault.js';

type Callback<T> = (err?: unknown, value?: T) => void;

/**
 * express-session store that never lets a session id or a token reach the inner store: the key is a
 * hash of the session id and the value is sealed with a key derived from the session id.
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
      callback(undefined, unsealSession(this.vault, sid, stored, Date.now()));
    });
  }

  override set(sid: string, data: session.SessionData, callback?: Callback<void>): void {
    const envelope = sealSession(this.vault, sid, data);
    this.inner.set(this.keys.sessionStoreId(sid), envelope as unknown as session.SessionData, (err) =>
      callback?.(err ? new SessionStoreUnavailableError(undefined, { cause: err }) : undefined),
    );
  }

  override destroy(sid: string, callback?: Callback<void>): void {
    this.inner.destroy(this.keys.sessionStoreId(sid), (err) =>
      callback?.(err ? new SessionStoreUnavailableError(undefined, { cause: err }) : undefined),
    );
  }
}

/**
 * The inner store when there is no Redis: the same JSON values in the in-memory KvStore, so the /api
 * hot path (session/session-records.ts) reads and compare-and-sets them exactly as it does in Redis.
 */
export class MemoryInnerStore extends session.Store {
  constructor(
    private readonly kv: KvStore,
    private readonly prefix: string,
  ) {
    super();
  }

  override get(id: string, callback: Callback<session.SessionData | null>): void {
    this.kv.get(this.prefix + id).then(
      (raw) => callback(undefined, raw === null ? null : (JSON.parse(raw) as session.SessionData)),
      (err: unknown) => callback(err),
    );
  }

  override set(id: string, data: session.SessionData, callback?: Callback<void>): void {
    const expires = data.cookie?.expires ? new Date(data.cookie.expires).getTime() : Date.now();
    const ttlMs = expires - Date.now();
    const work =
      ttlMs > 0 ? this.kv.set(this.prefix + id, JSON.stringify(data), ttlMs) : this.kv.del(this.prefix + id);
    work.then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  override destroy(id: string, callback?: Callback<void>): void {
    this.kv.del(this.prefix + id).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }
}
