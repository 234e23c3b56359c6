import { SessionStoreUnavailableError, RateLimitedError } from '../../errors.js';
import type { RedisClient } from '../../session/redis-client.js';
import type { StoreKeys } from '../../session/keys.js';

const WINDOW_MS = 60_000;
/**
 * All clients together may make this many times the per-client limit (per endpoint). Each allowed
 * login start stores a pending login for 10 minutes and each client's counter is a key of its own, so
 * without a cap on the sum a flood from rotating addresses (IPv6, a botnet, or X-Forwarded-For when
 * TRUST_PROXY trusts too much) grows the store without bound. With it, one window creates at most
 * `limit × GLOBAL_FACTOR` client counters per endpoint and as many pending logins (2 keys each), every
 * one with a TTL. The price: such a flood can use up the shared budget and delay other users' sign-ins
 * until the window ends, which is what a rate limit trades for a store that cannot be filled.
 */
export const GLOBAL_FACTOR = 100;

/** A fixed-window count and how long the window still runs. */
interface Window {
  count: number;
  resetMs: number;
}

/** The store side: counters that live exactly one window, shared by every instance. */
interface Counters {
  /** Adds one; the window starts at the first hit and ends with the key (its TTL). */
  hit(key: string, windowMs: number): Promise<Window>;
  /** Adds one unless the count has reached `max` (then the count is unchanged): a slot taken or not. */
  reserve(key: string, max: number, windowMs: number): Promise<Window & { taken: boolean }>;
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

async function run(redis: RedisClient, script: string, key: string, ...args: number[]): Promise<number[]> {
  try {
    const reply = await redis.eval(script, 1, key, ...args);
    return Array.isArray(reply) ? reply.map(Number) : [];
  } catch (err) {
    throw new SessionStoreUnavailableError(undefined, { cause: err });
  }
}

function redisCounters(redis: RedisClient): Counters {
  return {
    async hit(key, windowMs) {
      const [count = 0, resetMs = windowMs] = await run(redis, HIT, key, windowMs);
      return { count, resetMs };
    },
    async reserve(key, max, windowMs) {
      const [count = 0, resetMs = windowMs, taken = 0] = await run(redis, RESERVE, key, max, windowMs);
      return { count, resetMs, taken: taken === 1 };
    },
    async release(key) {
      await run(redis, RELEASE, key);
    },
  };
}

/** Without Redis (development, one process): the same windows in a map, swept like the memory store. */
function memoryCounters(): Counters {
  const windows = new Map<string, { count: number; endsAt: number }>();
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [key, w] of windows) if (w.endsAt <= now) windows.delete(key);
  }, WINDOW_MS);
  sweeper.unref();
  const current = (key: string, windowMs: number) => {
    const now = Date.now();
    let w = windows.get(key);
    if (w === undefined || w.endsAt <= now) {
      w = { count: 0, endsAt: now + windowMs };
      windows.set(key, w);
    }
    return w;
  };
  return {
    async hit(key, windowMs) {
      const w = current(key, windowMs);
      w.count += 1;
      return { count: w.count, resetMs: w.endsAt - Date.now() };
    },
    async reserve(key, max, windowMs) {
      const w = current(key, windowMs);
      const taken = w.count < max;
      if (taken) w.count += 1;
      return { count: w.count, resetMs: w.endsAt - Date.now(), taken };
    },
    async release(key) {
      const w = windows.get(key);
      if (w !== undefined && w.endsAt > Date.now()) w.count -= 1;
    },
  };
}

/** The two endpoints counted, each with its own counters. */
export type LimitedEndpoint = 'login' | 'callback';

/**
 * RATE_LIMIT_LOGIN: login starts and callbacks are counted separately per client IP (two counters, not
 * one shared): a sign-in is one of each, so RATE_LIMIT_LOGIN keeps meaning "sign-ins per minute from
 * this address" as it did before callbacks were limited, and an office behind one NAT address keeps
 * the same capacity. Counted in the store, so every instance enforces the same limit. In front of it,
 * the cap on all clients together (GLOBAL_FACTOR) is taken first, so a refused request writes no key
 * of its own; a request the client's own limit refuses gives its slot back, so one noisy address
 * cannot use up everybody's budget.
 */
export class LoginRateLimiter {
  private readonly counters: Counters;
  private readonly globalLimit: number;

  constructor(
    redis: RedisClient | undefined,
    private readonly keys: StoreKeys,
    /** Per client IP per window; 0: off. */
    readonly limit: number,
  ) {
    this.counters = redis ? redisCounters(redis) : memoryCounters();
    this.globalLimit = limit * GLOBAL_FACTOR;
  }

  /** Counts one request from `client`; throws RateLimitedError (429, Retry-After) beyond a limit. */
  async check(endpoint: LimitedEndpoint, client: string): Promise<void> {
    if (this.limit === 0) return;
    const all = this.keys.rateLimitAll(endpoint);
    const global = await this.counters.reserve(all, this.globalLimit, WINDOW_MS);
    if (!global.taken) throw new RateLimitedError(seconds(global.resetMs));
    const own = await this.counters.hit(this.keys.rateLimit(endpoint, client), WINDOW_MS);
    if (own.count > this.limit) {
      await this.counters.release(all);
      throw new RateLimitedError(seconds(own.resetMs));
    }
  }
}

/** Retry-After: whole seconds, rounded up so a client that waits that long finds a new window. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
