import { setTimeout as delay } from 'node:timers/promises';
import { IdpUnavailableError } from '../../errors.js';
import type { RefreshLock } from './refresh-lock.js';

/**
 * The two halves of "one token request at a time" that the session refresher and the per-route token
 * keeper (route-tokens.ts) share: one promise per key in this process, and a store lock across
 * instances whose waiters take the holder's result instead of asking the IdP again.
 */

/** In-process: parallel callers with the same key share one run. */
export class SingleFlight<V> {
  private readonly inflight = new Map<string, Promise<V>>();

  run(key: string, work: () => Promise<V>): Promise<V> {
    let shared = this.inflight.get(key);
    if (!shared) {
      shared = work().finally(() => this.inflight.delete(key));
      this.inflight.set(key, shared);
    }
    return shared;
  }
}

/**
 * How long a request waits for another instance's token request before giving up with 503: longer than
 * a live holder's usual worst case (store calls at 1.5 s around a 10 s IdP call), whose lock is renewed
 * meanwhile.
 */
export const LOCK_WAIT_MS = 20_000;

export interface AcrossInstances<T> {
  lock: RefreshLock;
  /** The work, holding the lock (released afterwards whatever happens). */
  holding: () => Promise<T>;
  /**
   * Once another holder let go: its result if it is usable (undefined: it failed transiently, so try
   * to take the lock ourselves).
   */
  afterOther: () => Promise<T | undefined>;
  /** Starts the lock-wait timer (a metric); the returned function stops it. */
  startWaitTimer: () => () => void;
}

/** Across instances: take the lock and work, or wait for its holder and take its result. */
export async function acrossInstances<T>(flight: AcrossInstances<T>): Promise<T> {
  const { lock } = flight;
  const giveUpAt = Date.now() + LOCK_WAIT_MS;
  let stopWaitTimer: (() => void) | undefined;
  for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
    if (await lock.obtain()) {
      stopWaitTimer?.();
      try {
        return await flight.holding();
      } finally {
        await lock.release();
      }
    }
    // Another instance (or another kind of token request of this session) holds it: wait, then take its result.
    stopWaitTimer ??= flight.startWaitTimer();
    await delay(wait);
    if (await lock.peek()) {
      if (Date.now() > giveUpAt) {
        stopWaitTimer();
        throw new IdpUnavailableError('A token refresh is taking too long; try again shortly.');
      }
      continue;
    }
    const theirs = await flight.afterOther();
    if (theirs !== undefined) {
      stopWaitTimer();
      return theirs;
    }
  }
}
