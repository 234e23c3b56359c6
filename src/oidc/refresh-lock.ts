import { randomUUID } from 'node:crypto';
import { describeError, type Logger } from '../observability/logger.js';
import type { KvStore } from '../session/kv-store.js';

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
 * One holder's Redis lock on a session's refresh (`SET NX PX`, renewed and released only by its owner).
 * Sizing the TTL for the holder's whole worst case instead (a few store calls at 1.5 s before and after
 * the IdP, compare-and-set retries) would keep a crashed holder's lock for half a minute; renewing keeps
 * a dead holder's lock short and a live one's as long as it works.
 */
export class RefreshLock {
  private readonly owner = randomUUID();
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly kv: KvStore,
    private readonly key: string,
    private readonly logger: Logger,
  ) {}

  /** The lock, or undefined when another holder has it. */
  static async take(kv: KvStore, key: string, logger: Logger): Promise<RefreshLock | undefined> {
    const lock = new RefreshLock(kv, key, logger);
    if (!(await kv.setIfAbsent(key, lock.owner, LOCK_TTL_MS))) return undefined;
    lock.heartbeat = setInterval(() => void lock.renew(), LOCK_RENEW_MS);
    lock.heartbeat.unref();
    return lock;
  }

  /**
   * Renews the lock and says whether it is still ours: called right before spending the refresh token,
   * so the spend always has a full LOCK_TTL_MS ahead of it. False (or a store error) means: do not spend.
   */
  confirm(): Promise<boolean> {
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

  private async renew(): Promise<void> {
    try {
      if (!(await this.confirm())) {
        clearInterval(this.heartbeat);
        this.logger.warn('refresh lock lost while held (the store was too slow to renew it)');
      }
    } catch (err) {
      // A store blip: the next beat tries again; the TTL left covers the gap.
      this.logger.debug({ err: describeError(err) }, 'refresh lock renewal failed');
    }
  }
}
