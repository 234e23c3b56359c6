/**
 * The generic store: bytes under keys, with the few atomic operations the gateway needs (compare-and-set,
 * locks, single-use reads). A Redis (redis-kv-store.ts) and an in-memory (memory-kv-store.ts)
 * implementation behave the same, which test/helpers/store-contract*.ts asserts on every backend. Every
 * store failure surfaces as SessionStoreUnavailableError (503). `get` reads the bytes as UTF-8 text,
 * `getBytes` as they are. Operations on one domain's keys that need more than these (a sorted index, a
 * counter window) live in that domain's store (pending-login-store.ts, rate-limit-store.ts,
 * session-index-store.ts), on the same keyspace.
 */
export interface KvStore {
  ping(): Promise<void>;

  get(key: string): Promise<string | null>;
  getBytes(key: string): Promise<Buffer | null>;
  /** MGET: several keys in one command; they must share one Cluster hash slot (a `{…}` tag). */
  getManyBytes(keys: readonly string[]): Promise<Array<Buffer | null>>;
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
}
