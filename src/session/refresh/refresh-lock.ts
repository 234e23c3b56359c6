import { randomUUID } from 'node:crypto';
import { describeError, type Logger } from '../../observability/logger.js';
import type { StoreKeys } from '../store/keys.js';
import type { KvStore } from '../store/kv-store.js';

/**
 * The lock's lifetime from its last confirmed renewal. It must outlive the one step that cannot be
 * repeated: from the renewal just before the IdP call, the IdP call itself (10 s at most, provider.ts)
 * and sending its result to the store. Whatever the store does meanwhile, the result (the grace entry)
 * is then queued at the store before anyone else can take the lock and read the spent token.
 */
export const LOCK_TTL_MS = 15_000;
/** The holder renews this often, so the slow store calls after the IdP call (writes, retries) stay covered too. */
export const LOCK_RENEW_MS = 3_000;

/**
 * One session's refresh lock across instances, as seen by one would-be holder (the shape of
 * oauth2-proxy's session lock: obtain, peek, renew, release).
 */
export interface RefreshLock {
  /** Takes the lock; false when another holder has it. While held, it is renewed in the background. */
  obtain(): Promise<boolean>;
  /** Whether anyone holds the lock now (what a waiter polls). */
  peek(): Promise<boolean>;
  /**
   * Renews the lock and says whether it is still ours: called right before spending the refresh token,
   * so the spend always has a whole lock lifetime ahead of it. False (or a store error) means: do not spend.
   */
  renew(): Promise<boolean>;
  /** Gives the lock back if it is still ours. Never throws: an unreleased lock expires by itself. */
  release(): Promise<void>;
}

export interface RefreshLocks {
  /** The lock of every spend of the session's refresh token (its own refresh, audience grants). */
  forSession(sid: string): RefreshLock;
}

export interface RouteTokenLocks extends RefreshLocks {
  /** The lock of one route token that spends no refresh token (a token exchange). */
  forRouteToken(sid: string, tokenId: string): RefreshLock;
}

/**
 * The locks in the store (`SET NX PX`, renewed and released only by their owner). Sizing the TTL for the
 * holder's whole worst case instead (a few store calls at 1.5 s before and after the IdP, compare-and-set
 * retries) would keep a crashed holder's lock for half a minute; renewing keeps a dead holder's lock
 * short and a live one's as long as it works.
 */
export class StoreRefreshLocks implements RouteTokenLocks {
  constructor(
    private readonly kv: KvStore,
    private readonly keys: StoreKeys,
    private readonly logger: Logger,
  ) {}

  forSession(sid: string): RefreshLock {
    return new StoreRefreshLock(this.kv, this.keys.refreshLock(sid), this.logger);
  }

  forRouteToken(sid: string, tokenId: string): RefreshLock {
    return new StoreRefreshLock(this.kv, this.keys.routeTokenLock(sid, tokenId), this.logger);
  }
}

class StoreRefreshLock implements RefreshLock {
  private readonly owner = randomUUID();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly kv: KvStore,
    private readonly key: string,
    private readonly logger: Logger,
  ) {}

  async obtain(): Promise<boolean> {
    if (!(await this.kv.setIfAbsent(this.key, this.owner, LOCK_TTL_MS))) return false;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void this.beat(), LOCK_RENEW_MS);
    this.heartbeat.unref();
    return true;
  }

  peek(): Promise<boolean> {
    return this.kv.exists(this.key);
  }

  renew(): Promise<boolean> {
    return this.kv.extendIfEquals(this.key, this.owner, LOCK_TTL_MS);
  }

  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.kv
      .deleteIfEquals(this.key, this.owner)
      .catch((err: unknown) =>
        this.logger.warn({ err: describeError(err) }, 'refresh lock release failed; it expires by itself'),
      );
  }

  private async beat(): Promise<void> {
    try {
      if (!(await this.renew())) {
        clearInterval(this.heartbeat);
        this.logger.warn('refresh lock lost while held (the store was too slow to renew it)');
      }
    } catch (err) {
      // A store blip: the next beat tries again; the TTL left covers the gap.
      this.logger.debug({ err: describeError(err) }, 'refresh lock renewal failed');
    }
  }
}
