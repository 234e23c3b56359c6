import { describeError, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { StoreKeys } from './store/keys.js';
import type { KvStore } from './store/kv-store.js';
import type { SessionRecord } from './records/record.js';
import type { SessionIndex, SessionMatch } from './backchannel-index.js';
import type { SessionRecords } from './records/session-records.js';

/** Why a session ended, as counted by `bff_logouts_total{kind}`. */
export type EndKind = 'rp' | 'backchannel' | 'refresh';

/**
 * Something bound to sessions that must let go when one ends (the proxy's open WebSockets). Sessions are
 * named by the hash of their id, as the store keys them: back-channel logout knows no more.
 */
export interface SessionEndListener {
  sessionEnded(sessionHash: string): void;
  /** The sessions it holds something for: swept for those that ended without us (below). */
  sessionsHeld(): Iterable<string>;
}

export interface SessionTerminatorDeps {
  records: SessionRecords;
  index: SessionIndex;
  kv: KvStore;
  keys: StoreKeys;
  metrics: Pick<Metrics, 'logouts'>;
  logger: Logger;
  /** The ids of every route token a session may hold (audience and exchange routes): removed with it. */
  routeTokenIds?: readonly string[];
}

/**
 * The one place that ends sessions: the record leaves the store, its back-channel index entries go,
 * the listeners let go (WebSockets closed), and the end is counted by kind. Used by logout, a refused
 * refresh and back-channel logout.
 *
 * Sessions can also end without us: expiry in the store, or a logout on another instance. Those are
 * found by `sweep()` (every `sweepMs` while a listener holds anything), which tells the listeners and
 * counts nothing (another instance counted its own logout; an expiry is not a logout).
 */
export class SessionTerminator {
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: SessionTerminatorDeps,
    private readonly listeners: readonly SessionEndListener[] = [],
    sweepMs = 10_000,
  ) {
    if (listeners.length > 0) {
      this.sweeper = setInterval(() => void this.sweep(), sweepMs);
      this.sweeper.unref();
    }
  }

  /**
   * Ends one session: its record is taken out of the store in one atomic read-and-delete (so a refresh
   * rotating its refresh token meanwhile is either in the record returned or refused by its
   * compare-and-set), and returned, for the caller to revoke its refresh token. null when there was none
   * (its sockets are let go all the same). A store failure throws before anything changed.
   */
  async end(sid: string, kind: EndKind): Promise<SessionRecord | null> {
    const record = await this.deps.records.take(sid);
    const hash = this.deps.keys.sessionHash(sid);
    this.notify(hash);
    if (record) {
      await Promise.all([this.unindex(sid, record), this.dropRouteTokens([hash])]);
      this.deps.metrics.logouts.inc({ kind });
    }
    return record;
  }

  /**
   * Ends every session of an IdP session or of a user (back-channel logout) and says how many there
   * were. The sessions are deleted before their index, so a store failure midway leaves the index for
   * the IdP's retry.
   */
  async endAll(match: SessionMatch, kind: EndKind): Promise<number> {
    const hashes = await this.deps.index.endSessions(match);
    for (const hash of hashes) this.notify(hash);
    await this.dropRouteTokens(hashes);
    this.deps.metrics.logouts.inc({ kind }, hashes.length);
    return hashes.length;
  }

  /** Tells the listeners about the sessions they hold that are gone from the store. */
  async sweep(): Promise<void> {
    for (const listener of this.listeners) {
      for (const hash of [...listener.sessionsHeld()]) {
        // A store outage is not a session end: keep them and look again next time.
        const alive = await this.deps.kv.exists(this.deps.keys.sessionByHash(hash)).catch(() => true);
        if (!alive) this.notify(hash);
      }
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private notify(sessionHash: string): void {
    for (const listener of this.listeners) listener.sessionEnded(sessionHash);
  }

  /**
   * The ended sessions' route tokens (one DEL per session: its keys share one hash slot). They could not
   * be used without the session anyway (sealed to its id, read only with it); this frees the memory.
   * Never fails the end: they expire by themselves.
   */
  private async dropRouteTokens(sessionHashes: readonly string[]): Promise<void> {
    const ids = this.deps.routeTokenIds ?? [];
    if (ids.length === 0) return;
    const { keys, kv } = this.deps;
    await Promise.all(
      sessionHashes.map((hash) => kv.del(...ids.map((id) => keys.routeTokenByHash(hash, id)))),
    ).catch((err: unknown) =>
      this.deps.logger.warn(
        { err: describeError(err) },
        'route token cleanup failed; they expire by themselves',
      ),
    );
  }

  /** Never fails the end: the session is already gone, and its entries expire by themselves anyway. */
  private async unindex(sid: string, record: SessionRecord): Promise<void> {
    await this.deps.index
      .remove(sid, record)
      .catch((err: unknown) =>
        this.deps.logger.warn(
          { err: describeError(err) },
          'session index cleanup failed; entries expire by themselves',
        ),
      );
  }
}
