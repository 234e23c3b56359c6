import { BoundedCache } from './bounded-cache.js';
import type { StoreKeys } from '../store/keys.js';
import type { KvStore } from '../store/kv-store.js';
import { isLive, storeExpiry, type SessionRecord } from './record.js';
import { openStoredSession, sealStoredSession } from './sealed-record.js';
import type { Vault } from '../vault.js';

/**
 * A session as read: the record plus the exact stored value, for compare-and-set. Shared by every
 * request of the session (see the cache below), so it is frozen.
 */
export interface LoadedSession {
  readonly sid: string;
  readonly record: SessionRecord;
  readonly raw: Buffer;
}

/** How many decoded sessions one process keeps (each a few KiB). */
export const SESSION_CACHE_ENTRIES = 5_000;

export interface SessionRecordsOptions {
  cacheEntries?: number;
  /** The clock for the liveness check; tests move it. */
  now?: () => number;
}

interface CacheEntry {
  storeKey: string;
  loaded: LoadedSession;
}

/**
 * Every read and write of a stored session (the /api hot path, the refresh, and express-session through
 * session-store.ts): one GET to read, and writes that cannot be lost to a concurrent one (compare-and-set
 * on the exact value read).
 *
 * Decoding a session (key derivation, AES-GCM, inflate, JSON) costs far more than the GET, so the last
 * decoded value of each session is kept in process. The store stays the source of truth: every read
 * still GETs the value, and the decoded record is reused only when the stored bytes are identical to
 * those it was decoded from (a session changed or deleted by any instance is never served from here).
 * Whether it is still live is checked on every read.
 */
export class SessionRecords {
  private readonly cache: BoundedCache<string, CacheEntry>;
  private readonly now: () => number;

  constructor(
    private readonly kv: KvStore,
    private readonly vault: Vault,
    private readonly keys: StoreKeys,
    options: SessionRecordsOptions = {},
  ) {
    this.cache = new BoundedCache(options.cacheEntries ?? SESSION_CACHE_ENTRIES);
    this.now = options.now ?? Date.now;
  }

  /** The live session of this id; null when there is none, it ended, or this id does not open it. */
  async read(sid: string): Promise<LoadedSession | null> {
    const cached = this.cache.get(sid);
    const storeKey = cached?.storeKey ?? this.keys.session(sid);
    return this.loaded(sid, cached, storeKey, await this.kv.getBytes(storeKey));
  }

  /**
   * The session and one more key of its hash slot (a route's token, route-tokens.ts) in one store
   * command (MGET): the steady state of a route with its own token stays one round trip.
   */
  async readWith(
    sid: string,
    otherKey: string,
  ): Promise<{ loaded: LoadedSession | null; other: Buffer | null }> {
    const cached = this.cache.get(sid);
    const storeKey = cached?.storeKey ?? this.keys.session(sid);
    const [raw, other] = await this.kv.getManyBytes([storeKey, otherKey]);
    return { loaded: this.loaded(sid, cached, storeKey, raw ?? null), other: other ?? null };
  }

  /** Decodes `raw` unless it is the value decoded last time; checks liveness. */
  private loaded(
    sid: string,
    cached: CacheEntry | undefined,
    storeKey: string,
    raw: Buffer | null,
  ): LoadedSession | null {
    if (raw === null) {
      this.cache.delete(sid);
      return null;
    }
    let loaded = cached?.loaded;
    if (loaded === undefined || !loaded.raw.equals(raw)) {
      const record = openStoredSession(this.vault, sid, raw);
      if (record === undefined) {
        this.cache.delete(sid);
        return null;
      }
      loaded = frozen({ sid, record, raw: ownCopy(raw) });
      this.cache.set(sid, { storeKey, loaded });
    }
    return isLive(loaded.record, this.now()) ? loaded : null;
  }

  /** Stores a new session (login), replacing whatever the id held. */
  async write(sid: string, record: SessionRecord): Promise<void> {
    const key = this.keys.session(sid);
    const ttlMs = storeExpiry(record) - this.now();
    if (ttlMs <= 0) return this.kv.del(key);
    await this.kv.set(key, sealStoredSession(this.vault, sid, record), ttlMs);
  }

  /** Replaces the record if the stored value is still `loaded.raw`; null when it changed or vanished. */
  async replace(loaded: LoadedSession, record: SessionRecord): Promise<LoadedSession | null> {
    const raw = sealStoredSession(this.vault, loaded.sid, record);
    const ttlMs = storeExpiry(record) - this.now();
    if (ttlMs <= 0) return null;
    const written = await this.kv.compareAndSet(this.keys.session(loaded.sid), loaded.raw, raw, ttlMs);
    return written ? { sid: loaded.sid, record, raw } : null;
  }

  async delete(sid: string): Promise<void> {
    this.cache.delete(sid);
    await this.kv.del(this.keys.session(sid));
  }

  /**
   * Deletes the session and returns the record it held at that instant (logout): a write that raced
   * the deletion (a rotated refresh token) is either in the returned record or was refused by
   * compare-and-set. null when there was none or this id does not open it. An ended session's record
   * is returned too: its refresh token may still be live at the IdP.
   */
  async take(sid: string): Promise<SessionRecord | null> {
    this.cache.delete(sid);
    const raw = await this.kv.getBytesAndDelete(this.keys.session(sid));
    return raw === null ? null : (openStoredSession(this.vault, sid, raw) ?? null);
  }
}

/**
 * The value in a buffer of its own: what the store client returns may be a slice of a larger reply
 * chunk (or of Node's shared pool), which a cached slice would keep alive.
 */
function ownCopy(raw: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(raw.length);
  raw.copy(copy);
  return copy;
}

/** Frees the decoded session from accidental changes by one of the requests sharing it. */
function frozen(loaded: LoadedSession): LoadedSession {
  deepFreeze(loaded.record);
  return Object.freeze(loaded);
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}
