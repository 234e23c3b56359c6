import { SessionStoreUnavailableError } from '../../errors.js';
import type { MemoryKeyspace } from './memory-keyspace.js';
import type { RedisClient } from './redis-client.js';
import { guard } from './redis-kv-store.js';

/** A fixed-window count and how long the window still runs (the counter key's TTL). */
export interface RateWindow {
  count: number;
  resetMs: number;
}

/**
 * The store side of rate limits (http/auth/rate-limit.ts): counters that live exactly one window, shared
 * by every instance on the same store. A window starts with the first count and ends with the key.
 */
export interface RateLimitStore {
  /** Adds one; the window starts at the first hit and ends with the key (its TTL). */
  hit(key: string, windowMs: number): Promise<RateWindow>;
  /** Adds one unless the count has reached `max` (then the count is unchanged): a slot taken or not. */
  reserve(key: string, max: number, windowMs: number): Promise<RateWindow & { taken: boolean }>;
  /** Gives a reserved slot back (never creates the key: an expired window stays expired). */
  release(key: string): Promise<void>;
}

// One key per script, so each runs on one Cluster slot. PTTL is read, not assumed, so Retry-After is
// the time actually left in the window; a key somehow without a TTL gets one instead of living forever.
const HIT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

const RESERVE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if n >= tonumber(ARGV[1]) and ttl > 0 then return {n, ttl, 0} end
n = redis.call('INCR', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {n, ttl, 1}`;

const RELEASE = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end
return 1`;

export class RedisRateLimitStore implements RateLimitStore {
  constructor(private readonly redis: RedisClient) {}

  async hit(key: string, windowMs: number): Promise<RateWindow> {
    const [count = 0, resetMs = windowMs] = await this.run(HIT, key, windowMs);
    return { count, resetMs };
  }

  async reserve(key: string, max: number, windowMs: number): Promise<RateWindow & { taken: boolean }> {
    const [count = 0, resetMs = windowMs, taken = 0] = await this.run(RESERVE, key, max, windowMs);
    return { count, resetMs, taken: taken === 1 };
  }

  async release(key: string): Promise<void> {
    await this.run(RELEASE, key);
  }

  private async run(script: string, key: string, ...args: number[]): Promise<number[]> {
    const reply = await guard(this.redis.eval(script, 1, key, ...args));
    return Array.isArray(reply) ? reply.map(Number) : [];
  }
}

/** The same three scripts, step by step, on the in-memory keyspace (one process: nothing interleaves). */
export class MemoryRateLimitStore implements RateLimitStore {
  constructor(private readonly keyspace: MemoryKeyspace) {}

  async hit(key: string, windowMs: number): Promise<RateWindow> {
    const count = this.add(key, 1);
    return { count, resetMs: this.window(key, windowMs) };
  }

  async reserve(key: string, max: number, windowMs: number): Promise<RateWindow & { taken: boolean }> {
    const current = this.count(key) ?? 0;
    const ttl = this.keyspace.pttl(key);
    if (current >= max && ttl > 0) return { count: current, resetMs: ttl, taken: false };
    const count = this.add(key, 1);
    return { count, resetMs: this.window(key, windowMs), taken: true };
  }

  async release(key: string): Promise<void> {
    if (this.keyspace.exists(key)) this.add(key, -1);
  }

  /** The counter's value; undefined when missing; a store error when it is not an integer (as INCR). */
  private count(key: string): number | undefined {
    const bytes = this.keyspace.read(key, 'string')?.bytes;
    if (bytes === undefined) return undefined;
    const n = Number(bytes.toString('utf8'));
    if (!Number.isSafeInteger(n)) {
      const cause = new Error(`ERR value is not an integer: ${key}`);
      throw new SessionStoreUnavailableError(undefined, { cause });
    }
    return n;
  }

  /** INCRBY: keeps the key's TTL; a new key has none until window() gives it one. */
  private add(key: string, by: number): number {
    const n = (this.count(key) ?? 0) + by;
    this.keyspace.update(key, { type: 'string', bytes: Buffer.from(String(n)) });
    return n;
  }

  /** What is left of the window; a counter without a TTL gets a whole window. */
  private window(key: string, windowMs: number): number {
    const ttl = this.keyspace.pttl(key);
    if (ttl >= 0) return ttl;
    this.keyspace.expire(key, windowMs);
    return windowMs;
  }
}
