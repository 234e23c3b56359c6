import { IdpUnavailableError, SessionExpiredError, SessionStoreUnavailableError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { needsRefresh } from '../records/record.js';
import type { LoadedSession, SessionRecords } from '../records/session-records.js';
import type { SessionTerminator } from '../session-terminator.js';
import { hasRefreshToken, type RefreshGrant, type RefreshedTokens } from './grant.js';
import type { RefreshGrace } from './refresh-grace.js';
import type { RefreshLock, RefreshLocks } from './refresh-lock.js';
import { acrossInstances, SingleFlight } from './single-flight.js';

const MAX_WRITE_ATTEMPTS = 5;

export interface SessionRefresherDeps {
  records: SessionRecords;
  locks: RefreshLocks;
  grace: RefreshGrace;
  /** The IdP's side: spends a refresh token, or discards one (oidc/refresh-grant.ts). */
  grant: RefreshGrant;
  terminator: Pick<SessionTerminator, 'end'>;
  logger: Logger;
  metrics: Pick<Metrics, 'refreshes' | 'refreshLockWait'>;
  refreshSkewMs: number;
}

/**
 * Keeps a session's access token fresh, spending each refresh token exactly once:
 *
 * 1. In-process: one promise per session; parallel requests share it.
 * 2. Across instances: a lock (refresh-lock.ts: renewed while held, released only by its owner,
 *    renewed once more right before the token is spent). Whoever does not get it waits for its
 *    release, re-reads the session and uses the new token.
 * 3. The holder re-reads the session after locking (someone may have just finished), then refreshes,
 *    and writes the rotated tokens before releasing the lock, with compare-and-set so that a concurrent
 *    save (a lazy idle slide elsewhere) can never put the spent refresh token back.
 * 4. The result is also kept for a short grace window under a hash of the spent refresh token
 *    (refresh-grace.ts), so a straggler that still holds the old one gets the new tokens instead of
 *    spending it again.
 *
 * The IdP call is the injected grant's: a terminal answer ends the session (401 session_expired)
 * through the terminator; a transient one keeps it (503 idp_unavailable).
 */
export class SessionRefresher {
  private readonly inflight = new SingleFlight<LoadedSession>();

  constructor(private readonly deps: SessionRefresherDeps) {}

  /** The session with a fresh access token (the same object when no refresh was needed). */
  fresh(loaded: LoadedSession): Promise<LoadedSession> {
    if (!this.stale(loaded.record)) return Promise.resolve(loaded);
    return this.inflight.run(loaded.sid, () =>
      this.refreshAcrossInstances(loaded.sid, (record) => this.stale(record)),
    );
  }

  /**
   * Refreshes even a fresh-looking access token, because the IdP refused it (a token exchange answered
   * invalid_grant): the session ends if its own refresh fails too (401), and is kept otherwise. A
   * session whose access token has changed meanwhile is returned as it is.
   */
  renewRefused(loaded: LoadedSession): Promise<LoadedSession> {
    const refused = loaded.record.tokens.accessToken;
    return this.inflight.run(loaded.sid, () =>
      this.refreshAcrossInstances(
        loaded.sid,
        (record) => record.tokens.accessToken === refused || this.stale(record),
      ),
    );
  }

  private refreshAcrossInstances(
    sid: string,
    stale: (record: RefreshedTokens) => boolean,
  ): Promise<LoadedSession> {
    const lock = this.deps.locks.forSession(sid);
    return acrossInstances({
      lock,
      holding: () => this.refreshHoldingLock(sid, stale, lock),
      afterOther: async () => {
        const current = await this.readOrExpire(sid);
        if (stale(current.record)) return undefined; // the other refresh failed transiently: try ourselves
        this.deps.metrics.refreshes.inc({ outcome: 'shared' });
        return current;
      },
      startWaitTimer: () => this.deps.metrics.refreshLockWait.startTimer(),
    });
  }

  private async refreshHoldingLock(
    sid: string,
    stale: (record: RefreshedTokens) => boolean,
    lock: RefreshLock,
  ): Promise<LoadedSession> {
    const { logger, metrics } = this.deps;
    const current = await this.readOrExpire(sid);
    if (!stale(current.record)) {
      metrics.refreshes.inc({ outcome: 'shared' });
      return current;
    }

    const record = current.record;
    if (!hasRefreshToken(record)) {
      if (record.accessTokenExpiresAt > Date.now()) return current; // within the skew, still valid
      return this.endSession(current, 'access token expired and there is no refresh token');
    }
    const spent = record.tokens.refreshToken;

    const fromGrace = await this.deps.grace.read(sid, spent);
    if (fromGrace !== undefined && !stale(fromGrace)) {
      logger.info(
        { sub: record.sub },
        'refresh: spent refresh token seen again; using the result of its refresh',
      );
      metrics.refreshes.inc({ outcome: 'grace' });
      return this.store(current, fromGrace);
    }

    // The store calls so far may have been slow: spend the token only with a whole lock lifetime ahead.
    if (!(await lock.renew())) {
      logger.warn({ sub: record.sub }, 'refresh lock lost before the refresh; refresh token not spent');
      throw new IdpUnavailableError('A token refresh is taking too long; try again shortly.');
    }
    const result = await this.deps.grant.refresh(record);
    if (result.kind === 'terminal') {
      metrics.refreshes.inc({ outcome: 'terminal' });
      return this.endSession(current, result.reason, result.details);
    }
    if (result.kind === 'transient') {
      metrics.refreshes.inc({ outcome: 'transient' });
      throw new IdpUnavailableError(undefined, { cause: result.cause });
    }

    const { refreshed } = result;
    // Only a rotated refresh token can come back spent; an unrotated one stays valid and needs no grace.
    const rotated = refreshed.tokens.refreshToken !== spent;
    if (rotated) await this.deps.grace.write(sid, spent, refreshed);
    const stored = await this.store(current, refreshed);
    metrics.refreshes.inc({ outcome: 'ok' });
    logger.info({ sub: record.sub, idpSid: record.idpSid, rotated }, 'access token refreshed');
    return stored;
  }

  /**
   * Compare-and-set the new tokens into whatever the session is now (it may have slid meanwhile); also
   * for a refresh token rotated by a per-route grant (route-tokens.ts).
   */
  async store(base: LoadedSession, refreshed: RefreshedTokens): Promise<LoadedSession> {
    let current: LoadedSession = base;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const written = await this.deps.records.replace(current, { ...current.record, ...refreshed });
      if (written) return written;
      const latest = await this.deps.records.read(base.sid);
      if (!latest) {
        // Logged out while we refreshed: nothing to keep the new tokens for.
        await this.deps.grant.discard(refreshed.tokens.refreshToken, base.record.sub);
        throw new SessionExpiredError();
      }
      current = latest;
    }
    throw new SessionStoreUnavailableError('The session changed too often to store the refreshed token.');
  }

  private async readOrExpire(sid: string): Promise<LoadedSession> {
    const current = await this.deps.records.read(sid);
    if (!current) throw new SessionExpiredError();
    return current;
  }

  private async endSession(
    session: LoadedSession,
    reason: string,
    details: Record<string, unknown> = {},
  ): Promise<never> {
    this.deps.logger.info({ sub: session.record.sub, reason, ...details }, 'session ended by refresh');
    await this.deps.terminator.end(session.sid, 'refresh');
    throw new SessionExpiredError();
  }

  private stale(tokens: Pick<RefreshedTokens, 'accessTokenExpiresAt' | 'accessTokenIssuedAt'>): boolean {
    return needsRefresh(tokens, Date.now(), this.deps.refreshSkewMs);
  }
}
