import { RateLimitedError } from '../../errors.js';
import type { StoreKeys } from '../../session/store/keys.js';
import type { RateLimitStore } from '../../session/store/rate-limit-store.js';

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
  private readonly globalLimit: number;

  constructor(
    /** The counters (session/store/rate-limit-store.ts): in Redis, or in memory for one development process. */
    private readonly counters: RateLimitStore,
    private readonly keys: StoreKeys,
    /** Per client IP per window; 0: off. */
    readonly limit: number,
  ) {
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
