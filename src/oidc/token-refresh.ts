import { setTimeout as delay } from 'node:timers/promises';
import * as client from 'openid-client';
import { IdpUnavailableError, SessionExpiredError, SessionStoreUnavailableError } from '../errors.js';
import { describeError, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { StoreKeys } from '../session/keys.js';
import type { KvStore } from '../session/kv-store.js';
import { needsRefresh, userClaims, type SessionRecord } from '../session/record.js';
import type { LoadedSession, SessionRecords } from '../session/session-records.js';
import type { Vault } from '../session/vault.js';
import { revokeRefreshToken } from './end-session.js';
import { RefreshLock } from './refresh-lock.js';
import { refreshedIdTokenMismatch } from './refreshed-id-token.js';
import { classifyRefreshFailure, describeIdpFailure, type IdpFailure } from './idp-errors.js';
import type { IdentityProvider } from './provider.js';
import { accessTokenTimes, tokenSetFrom } from './token-response.js';

/**
 * How long a request waits for another instance's refresh before giving up with 503: longer than a live
 * holder's usual worst case (store calls at 1.5 s around a 10 s IdP call), whose lock is renewed meanwhile.
 */
const LOCK_WAIT_MS = 20_000;
/** How long the result of a refresh stays available to a request that still holds the spent token. */
const GRACE_MS = 30_000;
const GRACE_PURPOSE = 'refresh-grace';
const MAX_WRITE_ATTEMPTS = 5;

type RefreshedTokens = Pick<
  SessionRecord,
  'tokens' | 'accessTokenExpiresAt' | 'accessTokenIssuedAt' | 'claims'
>;

export interface TokenRefresherDeps {
  idp: IdentityProvider;
  kv: KvStore;
  records: SessionRecords;
  keys: StoreKeys;
  vault: Vault;
  logger: Logger;
  refreshSkewMs: number;
  metrics: Metrics;
  /** Told when a refresh ends a session (its WebSockets are closed, its index entries removed). */
  onSessionEnded: (sid: string, record: SessionRecord) => void;
}

/**
 * Keeps a session's access token fresh, spending each refresh token exactly once:
 *
 * 1. In-process: one promise per session; parallel requests share it.
 * 2. Across instances: a Redis lock (refresh-lock.ts: renewed while held, released only by its owner,
 *    confirmed right before the token is spent). Whoever does not get it waits for its release,
 *    re-reads the session and uses the new token.
 * 3. The holder re-reads the session after locking (someone may have just finished), then refreshes,
 *    and writes the rotated tokens before releasing the lock, with compare-and-set so that a concurrent
 *    save (a lazy idle slide elsewhere) can never put the spent refresh token back.
 * 4. The result is also kept for a short grace window under a hash of the spent refresh token, so a
 *    straggler that still holds the old one gets the new tokens instead of spending it again.
 *
 * Terminal refusals (invalid_grant, a 400 invalid_request) delete the session: 401 session_expired.
 * Anything else (unreachable, 429, 5xx, invalid_client, any 401) keeps it: 503 idp_unavailable.
 */
export class TokenRefresher {
  private readonly inflight = new Map<string, Promise<LoadedSession>>();

  constructor(private readonly deps: TokenRefresherDeps) {}

  /** The session with a fresh access token (the same object when no refresh was needed). */
  fresh(loaded: LoadedSession): Promise<LoadedSession> {
    if (!needsRefresh(loaded.record, Date.now(), this.deps.refreshSkewMs)) return Promise.resolve(loaded);
    let shared = this.inflight.get(loaded.sid);
    if (!shared) {
      shared = this.refreshAcrossInstances(loaded.sid).finally(() => this.inflight.delete(loaded.sid));
      this.inflight.set(loaded.sid, shared);
    }
    return shared;
  }

  private async refreshAcrossInstances(sid: string): Promise<LoadedSession> {
    const { kv, keys } = this.deps;
    const lockKey = keys.refreshLock(sid);
    const giveUpAt = Date.now() + LOCK_WAIT_MS;
    let stopWaitTimer: (() => void) | undefined;
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      const lock = await RefreshLock.take(kv, lockKey, this.deps.logger);
      if (lock) {
        stopWaitTimer?.();
        try {
          return await this.refreshHoldingLock(sid, lock);
        } finally {
          await lock.release();
        }
      }
      // Another instance is refreshing this session: wait for it, then take its result.
      stopWaitTimer ??= this.deps.metrics.refreshLockWait.startTimer();
      await delay(wait);
      if (await kv.exists(lockKey)) {
        if (Date.now() > giveUpAt) {
          stopWaitTimer();
          throw new IdpUnavailableError('A token refresh is taking too long; try again shortly.');
        }
        continue;
      }
      const current = await this.readOrExpire(sid);
      if (!needsRefresh(current.record, Date.now(), this.deps.refreshSkewMs)) {
        stopWaitTimer();
        this.deps.metrics.refreshes.inc({ outcome: 'shared' });
        return current;
      }
      // The other refresh failed transiently (session kept, token still stale): try ourselves.
    }
  }

  private async refreshHoldingLock(sid: string, lock: RefreshLock): Promise<LoadedSession> {
    const { logger, kv, keys, vault } = this.deps;
    const current = await this.readOrExpire(sid);
    if (!needsRefresh(current.record, Date.now(), this.deps.refreshSkewMs)) {
      this.deps.metrics.refreshes.inc({ outcome: 'shared' });
      return current;
    }

    const spent = current.record.tokens.refreshToken;
    if (spent === undefined) {
      if (current.record.accessTokenExpiresAt > Date.now()) return current; // within the skew, still valid
      await this.endSession(current, 'access token expired and there is no refresh token');
      throw new SessionExpiredError();
    }

    const graceKey = keys.refreshGrace(sid, spent);
    const grace = await kv.get(graceKey);
    const opened = grace === null ? undefined : vault.open(grace, sid, GRACE_PURPOSE);
    const fromGrace = opened === undefined ? undefined : (JSON.parse(opened) as RefreshedTokens);
    if (fromGrace !== undefined && !needsRefresh(fromGrace, Date.now(), this.deps.refreshSkewMs)) {
      logger.info(
        { sub: current.record.sub },
        'refresh: spent refresh token seen again; using the result of its refresh',
      );
      this.deps.metrics.refreshes.inc({ outcome: 'grace' });
      return this.store(current, fromGrace);
    }

    // The store calls so far may have been slow: spend the token only with a whole lock lifetime ahead.
    if (!(await lock.confirm())) {
      logger.warn(
        { sub: current.record.sub },
        'refresh lock lost before the refresh; refresh token not spent',
      );
      throw new IdpUnavailableError('A token refresh is taking too long; try again shortly.');
    }
    let response: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      response = await this.deps.idp.call('refresh', () =>
        client.refreshTokenGrant(this.deps.idp.config, spent),
      );
    } catch (err) {
      const failure = await describeIdpFailure(err);
      const kind = classifyRefreshFailure(failure);
      this.deps.metrics.refreshes.inc({ outcome: kind === 'terminal' ? 'terminal' : 'transient' });
      if (kind === 'terminal') {
        await this.endSession(current, 'the IdP refused the refresh', err, failure);
        throw new SessionExpiredError();
      }
      logger[kind === 'misconfigured' ? 'error' : 'warn'](
        { sub: current.record.sub, idp: failure, err: describeError(err) },
        `refresh failed (${kind}); session kept`,
      );
      throw new IdpUnavailableError(undefined, { cause: err });
    }

    // A refreshed ID token is verified like a sign-in's (signature, alg, iss, aud, times): an answer that
    // fails is not a refusal by the IdP (it may be a key rotation in flight), so the session is kept.
    if (response.id_token !== undefined) {
      try {
        await this.deps.idp.idTokens.verify(response.id_token);
      } catch (err) {
        logger.warn(
          { sub: current.record.sub, err: describeError(err) },
          'refresh: the ID token failed validation; answer discarded, session kept',
        );
        throw new IdpUnavailableError(undefined, { cause: err });
      }
    }
    const refreshed = this.refreshedTokens(current.record, response);
    if ('mismatch' in refreshed) {
      // Never stored: the tokens are not this sign-in's. Revoke the refresh token they came with.
      const unkept = response.refresh_token ?? spent;
      await revokeRefreshToken(this.deps.idp, unkept, logger, current.record.sub);
      await this.endSession(current, `the refreshed ID token has another ${refreshed.mismatch}`);
      throw new SessionExpiredError();
    }
    // Only a rotated refresh token can come back spent; an unrotated one stays valid and needs no grace.
    if (refreshed.tokens.refreshToken !== spent) {
      await kv.set(graceKey, vault.seal(JSON.stringify(refreshed), sid, GRACE_PURPOSE), GRACE_MS);
    }
    const stored = await this.store(current, refreshed);
    this.deps.metrics.refreshes.inc({ outcome: 'ok' });
    logger.info(
      {
        sub: current.record.sub,
        sid: current.record.idpSid,
        rotated: refreshed.tokens.refreshToken !== spent,
      },
      'access token refreshed',
    );
    return stored;
  }

  private refreshedTokens(
    record: SessionRecord,
    response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  ): RefreshedTokens | { mismatch: 'iss' | 'aud' | 'sub' } {
    const idClaims = response.claims() as Record<string, unknown> | undefined;
    if (idClaims) {
      const { issuer } = this.deps.idp.metadata;
      const clientId = this.deps.idp.config.clientMetadata().client_id;
      const mismatch = refreshedIdTokenMismatch(
        record.tokens.idToken,
        { sub: record.sub, issuer, clientId },
        idClaims,
      );
      if (mismatch) return { mismatch };
    }
    return {
      tokens: tokenSetFrom(response, record.tokens),
      ...accessTokenTimes(response.access_token, response.expires_in, Date.now()),
      claims: idClaims ? { ...record.claims, ...userClaims(idClaims, undefined) } : record.claims,
    };
  }

  /** Compare-and-set the new tokens into whatever the session is now (it may have slid meanwhile). */
  private async store(base: LoadedSession, refreshed: RefreshedTokens): Promise<LoadedSession> {
    let current: LoadedSession = base;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const written = await this.deps.records.replace(current, { ...current.record, ...refreshed });
      if (written) return written;
      const latest = await this.deps.records.read(base.sid);
      if (!latest) {
        // Logged out while we refreshed: nothing to keep the new tokens for.
        await revokeRefreshToken(
          this.deps.idp,
          refreshed.tokens.refreshToken,
          this.deps.logger,
          base.record.sub,
        );
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
    err?: unknown,
    idp?: IdpFailure,
  ): Promise<void> {
    this.deps.logger.info(
      {
        sub: session.record.sub,
        reason,
        ...(idp ? { idp } : {}),
        ...(err ? { err: describeError(err) } : {}),
      },
      'session ended by refresh',
    );
    await this.deps.records.delete(session.sid);
    this.deps.metrics.logouts.inc({ kind: 'refresh' });
    this.deps.onSessionEnded(session.sid, session.record);
  }
}
