import type { RedisClient } from './redis-client.js';
import { SessionStoreUnavailableError } from '../http/errors.js';

/**
 * The small set of atomic operations the gateway needs beyond plain sessions, with a Redis and an
 * in-memory implementation. Every Redis failure surfaces as SessionStoreUnavailableError (503).
 */
export interface KvStore {
  ping(): Promise<void>;
  /** Stores one pending login and evicts the oldest beyond `max` for the same browser, atomically. */
  putPendingLogin(indexKey: string, key: string, value: string, ttlMs: number, max: number): Promise<void>;
  /** Returns and deletes a pending login (single use). */
  takePendingLogin(indexKey: string, key: string): Promise<string | null>;
  /** Fixed-window counter: the count in the current window after adding one. */
  hit(key: string, windowMs: number): Promise<number>;

  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Writes only if the key still holds `expected`; false when it changed or vanished. */
  compareAndSet(key: string, expected: string, value: string, ttlMs: number): Promise<boolean>;
  del(...keys: string[]): Promise<void>;
  exists(key: string): Promise<boolean>;

  /** A lock held by `owner` until released or `ttlMs` passes. */
  tryLock(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Releases only if `owner` still holds it (never someone else's lock after an expiry). */
  unlock(key: string, owner: string): Promise<void>;
}

async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw new SessionStoreUnavailableError(undefined, { cause: err });
  }
}

// Every key the scripts touch shares the index key's hash tag, so they run on one Cluster slot.
const PUT_PENDING = `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then
  local evicted = redis.call('ZPOPMIN', KEYS[1], extra)
  for i = 1, #evicted, 2 do redis.call('DEL', evicted[i]) end
end
return 1`;

const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const TAKE_PENDING = `
local v = redis.call('GET', KEYS[2])
if v then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], KEYS[2])
end
return v`;

export class RedisKvStore implements KvStore {
  constructor(private readonly redis: RedisClient) {}

  async ping(): Promise<void> {
    await guard(this.redis.ping());
  }

  async putPendingLogin(
    indexKey: string,
    key: string,
    value: string,
    ttlMs: number,
    max: number,
  ): Promise<void> {
    await guard(this.redis.eval(PUT_PENDING, 2, indexKey, key, value, ttlMs, Date.now(), max));
  }

  async takePendingLogin(indexKey: string, key: string): Promise<string | null> {
    const v = await guard(this.redis.eval(TAKE_PENDING, 2, indexKey, key));
    return typeof v === 'string' ? v : null;
  }

  async hit(key: string, windowMs: number): Promise<number> {
    const results = await guard(this.redis.multi().set(key, 0, 'PX', windowMs, 'NX').incr(key).exec());
    const incr = results?.[1];
    if (!incr || incr[0]) throw new SessionStoreUnavailableError();
    return Number(incr[1]);
  }

  get(key: string): Promise<string | null> {
    return guard(this.redis.get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await guard(this.redis.set(key, value, 'PX', ttlMs));
  }

  async compareAndSet(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    return (await guard(this.redis.eval(COMPARE_AND_SET, 1, key, expected, value, ttlMs))) === 1;
  }

  async del(...keys: string[]): Promise<void> {
    // One DEL per key: keys of different sessions may live on different Cluster slots.
    await Promise.all(keys.map((key) => guard(this.redis.del(key))));
  }

  async exists(key: string): Promise<boolean> {
    return (await guard(this.redis.exists(key))) === 1;
  }

  async tryLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await guard(this.redis.set(key, owner, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async unlock(key: string, owner: string): Promise<void> {
    await guard(this.redis.eval(UNLOCK, 1, key, owner));
  }
}

/** For development without Redis: one process, lost on restart. */
export class MemoryKvStore implements KvStore {
  private readonly values = new Map<string, { value: string; expiresAt: number }>();
  private readonly indexes = new Map<string, { key: string; at: number }[]>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async ping(): Promise<void> {}

  async putPendingLogin(
    indexKey: string,
    key: string,
    value: string,
    ttlMs: number,
    max: number,
  ): Promise<void> {
    const now = Date.now();
    this.values.set(key, { value, expiresAt: now + ttlMs });
    const index = (this.indexes.get(indexKey) ?? []).filter(
      (e) => e.key !== key && this.read(e.key) !== undefined,
    );
    index.push({ key, at: now });
    while (index.length > max) this.values.delete(index.shift()!.key);
    this.indexes.set(indexKey, index);
  }

  async takePendingLogin(indexKey: string, key: string): Promise<string | null> {
    const value = this.read(key);
    this.values.delete(key);
    const index = this.indexes.get(indexKey);
    if (index)
      this.indexes.set(
        indexKey,
        index.filter((e) => e.key !== key),
      );
    return value ?? null;
  }

  async hit(key: string, windowMs: number): Promise<number> {
    const count = Number(this.read(key) ?? '0') + 1;
    const expiresAt = this.values.get(key)?.expiresAt ?? Date.now() + windowMs;
    this.values.set(key, { value: String(count), expiresAt });
    return count;
  }

  async get(key: string): Promise<string | null> {
    return this.read(key) ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  async compareAndSet(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.read(key) !== expected) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async del(...keys: string[]): Promise<void> {
    for (const key of keys) this.values.delete(key);
  }

  async exists(key: string): Promise<boolean> {
    return this.read(key) !== undefined;
  }

  async tryLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    if (this.read(key) !== undefined) return false;
    await this.set(key, owner, ttlMs);
    return true;
  }

  async unlock(key: string, owner: string): Promise<void> {
    if (this.read(key) === owner) this.values.delete(key);
  }

  private read(key: string): string | undefined {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.values.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private sweep(): void {
    for (const key of this.values.keys()) this.read(key);
    for (const [indexKey, index] of this.indexes) {
      const live = index.filter((e) => this.values.has(e.key));
      if (live.length === 0) this.indexes.delete(indexKey);
      else this.indexes.set(indexKey, live);
    }
  }
}
