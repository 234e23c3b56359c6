import type { MemoryKeyspace } from './memory-keyspace.js';
import type { RedisClient } from './redis-client.js';
import { guard } from './redis-kv-store.js';

/**
 * The store side of pending logins (pending-logins.ts): one key per attempt plus a per-browser index
 * (a sorted set: attempt key -> when it was stored) for evicting the oldest. The index and its attempt
 * keys share a Cluster hash tag (keys.ts), so each operation is one script on one slot.
 */
export interface PendingLoginStore {
  /** Stores one pending login and evicts the oldest beyond `max` for the same index, atomically. */
  put(indexKey: string, key: string, value: string, ttlMs: number, max: number): Promise<void>;
  /** Returns and deletes a pending login and its index entry, atomically (single use). */
  take(indexKey: string, key: string): Promise<string | null>;
}

// ARGV: value, TTL (ms), now (epoch ms), max. The evicted keys share KEYS[1]'s hash tag. A score
// never below the newest one, so two puts in the same millisecond still evict in the order they came.
const PUT = `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local at = tonumber(ARGV[3])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
if newest and tonumber(newest) >= at then at = tonumber(newest) + 1 end
redis.call('ZADD', KEYS[1], at, KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then
  local evicted = redis.call('ZPOPMIN', KEYS[1], extra)
  for i = 1, #evicted, 2 do redis.call('DEL', evicted[i]) end
end
return 1`;

// ZREM of the last member deletes the index too: a completed login leaves no key behind.
const TAKE = `
local v = redis.call('GET', KEYS[2])
if v then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], KEYS[2])
end
return v`;

export class RedisPendingLoginStore implements PendingLoginStore {
  constructor(private readonly redis: RedisClient) {}

  async put(indexKey: string, key: string, value: string, ttlMs: number, max: number): Promise<void> {
    await guard(this.redis.eval(PUT, 2, indexKey, key, value, ttlMs, Date.now(), max));
  }

  async take(indexKey: string, key: string): Promise<string | null> {
    const v = await guard(this.redis.eval(TAKE, 2, indexKey, key));
    return typeof v === 'string' ? v : null;
  }
}

/** The same two scripts, step by step, on the in-memory keyspace (one process: nothing interleaves). */
export class MemoryPendingLoginStore implements PendingLoginStore {
  constructor(private readonly keyspace: MemoryKeyspace) {}

  async put(indexKey: string, key: string, value: string, ttlMs: number, max: number): Promise<void> {
    this.keyspace.write(key, { type: 'string', bytes: Buffer.from(value) }, ttlMs);
    const scores = new Map(this.keyspace.read(indexKey, 'zset')?.scores);
    const newest = Math.max(-Infinity, ...scores.values());
    scores.set(key, Math.max(Date.now(), newest + 1));
    this.keyspace.update(indexKey, { type: 'zset', scores });
    this.keyspace.expire(indexKey, ttlMs);
    // ZPOPMIN: lowest score first, ties in member order.
    const oldest = [...scores].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
    for (const [evicted] of oldest.slice(0, Math.max(0, scores.size - max))) {
      scores.delete(evicted);
      this.keyspace.delete(evicted);
    }
    this.keyspace.update(indexKey, { type: 'zset', scores });
  }

  async take(indexKey: string, key: string): Promise<string | null> {
    const value = this.keyspace.read(key, 'string')?.bytes.toString('utf8');
    if (value === undefined) return null;
    this.keyspace.delete(key);
    const scores = new Map(this.keyspace.read(indexKey, 'zset')?.scores);
    if (scores.delete(key)) this.keyspace.update(indexKey, { type: 'zset', scores });
    return value;
  }
}
