/**
 * The small set of atomic operations the gateway needs, with a Redis (redis-kv-store.ts) and an
 * in-memory (memory-kv-store.ts) implementation that behave the same. Every Redis failure surfaces as
 * SessionStoreUnavailableError (503). Values are bytes, as in Redis: `get` reads them as UTF-8 text,
 * `getBytes` as they are.
 */
export interface KvStore {
  ping(): Promise<void>;
  /** Stores one pending login and evicts the oldest beyond `max` for the same browser, atomically. */
  putPendingLogin(indexKey: string, key: string, value: string, ttlMs: number, max: number): Promise<void>;
  /** Returns and deletes a pending login and its index entry, atomically (single use). */
  takePendingLogin(indexKey: string, key: string): Promise<string | null>;
  /** Fixed-window counter: the count in the current window after adding one. */
  hit(key: string, windowMs: number): Promise<number>;

  get(key: string): Promise<string | null>;
  getBytes(key: string): Promise<Buffer | null>;
  set(key: string, value: string | Buffer, ttlMs: number): Promise<void>;
  /** Writes only if the key still holds exactly `expected`; false when it changed or vanished. */
  compareAndSet(
    key: string,
    expected: string | Buffer,
    value: string | Buffer,
    ttlMs: number,
  ): Promise<boolean>;
  del(...keys: string[]): Promise<void>;
  /** Reads and deletes the key in one atomic step (GETDEL): no write can land between the two. */
  getBytesAndDelete(key: string): Promise<Buffer | null>;
  exists(key: string): Promise<boolean>;

  /** SET NX PX: true when this call created the key (a lock taken, a one-time id first seen). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes only if the key still holds `value` (a lock released only by its owner). */
  deleteIfEquals(key: string, value: string): Promise<void>;
  /** Sets the key's TTL to `ttlMs` only if it still holds `value` (a lock renewed by its owner). */
  extendIfEquals(key: string, value: string, ttlMs: number): Promise<boolean>;

  /**
   * Adds `member` to an index (a Redis hash: member -> the epoch second it ends), drops the members
   * that have ended, and extends the index's TTL to at least `ttlMs` (never shortens it), in one step.
   */
  addToIndex(key: string, member: string, endsAtMs: number, ttlMs: number): Promise<void>;
  removeFromIndex(key: string, member: string): Promise<void>;
  indexMembers(key: string): Promise<string[]>;
  /** Members of a Redis set: the back-channel logout indexes written before they became hashes. */
  setMembers(key: string): Promise<string[]>;
}

export { RedisKvStore } from './redis-kv-store.js';
export { MemoryKvStore } from './memory-kv-store.js';
