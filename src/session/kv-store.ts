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

  /** SET NX PX: true when this call created the key (a lock taken, a one-time id first seen). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes only if the key still holds `value` (a lock released only by its owner). */
  deleteIfEquals(key: string, value: string): Promise<void>;

  /** Adds to a set and (re)sets the set's TTL. */
  addToSet(key: string, member: string, ttlMs: number): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
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

const DELETE_IF_EQUALS = `
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

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await guard(this.redis.set(key, value, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    await guard(this.redis.eval(DELETE_IF_EQUALS, 1, key, value));
  }

  async addToSet(key: string, member: string, ttlMs: number): Promise<void> {
    const results = await guard(this.redis.multi().sadd(key, member).pexpire(key, ttlMs).exec());
    if (!results || results.some(([err]) => err)) throw new SessionStoreUnavailableError();
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await guard(this.redis.srem(key, member));
  }

  members(key: string): Promise<string[]> {
    return guard(this.redis.smembers(key));
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

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.read(key) !== undefined) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    if (this.read(key) === value) this.values.delete(key);
  }

  // Sets are stored as JSON arrays in the same map, so they expire like everything else.
  async addToSet(key: string, member: string, ttlMs: number): Promise<void> {
    const members = new Set(await this.members(key));
    members.add(member);
    await this.set(key, JSON.stringify([...members]), ttlMs);
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    const entry = this.values.get(key);
    if (!entry) return;
    const members = (JSON.parse(entry.value) as string[]).filter((m) => m !== member);
    if (members.length === 0) this.values.delete(key);
    else entry.value = JSON.stringify(members);
  }

  async members(key: string): Promise<string[]> {
    const value = this.read(key);
    return value === undefined ? [] : (JSON.parse(value) as string[]);
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
