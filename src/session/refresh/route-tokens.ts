import type { RouteConfig } from '../../config/types.js';
import { ForbiddenError, IdpUnavailableError, SessionExpiredError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { BoundedCache } from '../records/bounded-cache.js';
import { needsRefresh, type SessionRecord } from '../records/record.js';
import { openRouteToken, sealRouteToken, type RouteToken } from '../records/route-token.js';
import type { LoadedSession, SessionRecords } from '../records/session-records.js';
import type { SessionTerminator } from '../session-terminator.js';
import type { StoreKeys } from '../store/keys.js';
import type { KvStore } from '../store/kv-store.js';
import type { Vault } from '../vault.js';
import { hasRefreshToken, type RefreshedTokens } from './grant.js';
import type { RefreshGrace } from './refresh-grace.js';
import type { RefreshLock, RouteTokenLocks } from './refresh-lock.js';
import type { RouteGrantResult, RouteTokenGrant } from './route-token-grant.js';
import type { SessionRefresher } from './session-refresher.js';
import { acrossInstances, SingleFlight } from './single-flight.js';

/** Decoded route tokens kept in process (each a few hundred bytes), reused while the stored bytes are the same. */
const CACHE_ENTRIES = 5_000;

export interface RouteTokensDeps {
  kv: KvStore;
  keys: StoreKeys;
  vault: Vault;
  records: SessionRecords;
  locks: RouteTokenLocks;
  grace: RefreshGrace;
  grant: RouteTokenGrant;
  refresher: Pick<SessionRefresher, 'fresh' | 'renewRefused' | 'store'>;
  terminator: Pick<SessionTerminator, 'end'>;
  logger: Logger;
  metrics: Pick<Metrics, 'refreshLockWait'>;
  refreshSkewMs: number;
}

const ids = new WeakMap<RouteConfig, string | undefined>();

/**
 * The name of a route's own token, the same for every route that needs the same token (two prefixes
 * for one API share it); undefined for a route that uses the session's token.
 */
export function routeTokenId(route: RouteConfig): string | undefined {
  if (ids.has(route)) return ids.get(route);
  const id =
    route.audience !== undefined
      ? `audience ${route.audience} ${route.scopes.join(' ')}`
      : route.exchange !== undefined
        ? `exchange ${route.exchange.audience} ${route.exchange.scope ?? ''}`
        : undefined;
  ids.set(route, id);
  return id;
}

/**
 * The per-route tokens of `audience` and `exchange` routes (contract "Tokens per API"), per session and
 * token, sealed beside the session (same hash slot: the steady state reads both with one MGET,
 * SessionRecords.readWith), obtained on the session refresher's rules:
 *
 * - one request per session and token in process (SingleFlight), and across instances a store lock
 *   whose waiters take the holder's result. An audience grant spends the session's refresh token, so it
 *   takes the session's own refresh lock: it can never race the session's refresh (or another audience
 *   grant) with the same refresh token, which a rotating IdP would punish by revoking the whole grant.
 *   An exchange spends nothing and takes a lock of its own;
 * - a refresh token rotated by an audience grant is stored in the session (compare-and-set, the
 *   refresher's) with the refresher's grace entry for stragglers still holding the spent one;
 * - the audience grant's invalid_grant ends the session (401); an exchange's invalid_grant is 401 only
 *   if the session's own refresh fails too, else 403 forbidden; other refusals are 403, an unreachable
 *   IdP 503, and the session's own access token is never touched.
 */
export class RouteTokens {
  private readonly flight = new SingleFlight<RouteToken>();
  private readonly cache = new BoundedCache<string, { raw: Buffer; token: RouteToken }>(CACHE_ENTRIES);

  constructor(private readonly deps: RouteTokensDeps) {}

  /** The store key of the route's token for this session (for SessionRecords.readWith). */
  key(sid: string, tokenId: string): string {
    return this.deps.keys.routeToken(sid, tokenId);
  }

  /**
   * The route's access token for this session. `stored`: the key's value when the caller read it with
   * the session (null: none), undefined when it did not (then it is read here).
   */
  async token(
    session: LoadedSession,
    route: RouteConfig,
    stored: Buffer | null | undefined,
  ): Promise<RouteToken> {
    const tokenId = routeTokenId(route);
    if (tokenId === undefined) throw new Error(`route ${route.prefix} has no token of its own`);
    const raw = stored === undefined ? await this.deps.kv.getBytes(this.key(session.sid, tokenId)) : stored;
    const current = raw === null ? undefined : this.open(session.sid, tokenId, raw);
    if (current !== undefined && !this.stale(current)) return current;
    return this.flight.run(`${session.sid} ${tokenId}`, () => this.obtain(session.sid, route, tokenId));
  }

  private obtain(sid: string, route: RouteConfig, tokenId: string): Promise<RouteToken> {
    const lock =
      route.audience !== undefined
        ? this.deps.locks.forSession(sid)
        : this.deps.locks.forRouteToken(sid, tokenId);
    return acrossInstances({
      lock,
      holding: () => this.obtainHoldingLock(sid, route, tokenId, lock),
      afterOther: async () => {
        const theirs = await this.read(sid, tokenId);
        // The holder may have been the session's own refresh, or failed: then try ourselves.
        return theirs !== undefined && !this.stale(theirs) ? theirs : undefined;
      },
      startWaitTimer: () => this.deps.metrics.refreshLockWait.startTimer(),
    });
  }

  private async obtainHoldingLock(
    sid: string,
    route: RouteConfig,
    tokenId: string,
    lock: RefreshLock,
  ): Promise<RouteToken> {
    const { logger } = this.deps;
    // Someone may have just finished (the lock was free because they released it).
    const already = await this.read(sid, tokenId);
    if (already !== undefined && !this.stale(already)) return already;
    let session = await this.deps.records.read(sid);
    if (!session) throw new SessionExpiredError();

    let result: RouteGrantResult;
    let spent: string | undefined;
    if (route.audience !== undefined) {
      const record = session.record;
      if (!hasRefreshToken(record)) {
        logger.error(
          { sub: record.sub, route: route.prefix },
          'audience route: the session has no refresh token to obtain the route token with (ask for offline_access)',
        );
        throw new IdpUnavailableError('This API needs a token the gateway cannot obtain for this sign-in.');
      }
      spent = record.tokens.refreshToken;
      await this.renewOrGiveUp(lock, record);
      result = await this.deps.grant.audience(record, route.audience, route.scopes);
    } else {
      // The subject token must be valid when the IdP sees it.
      session = await this.deps.refresher.fresh(session);
      await this.renewOrGiveUp(lock, session.record);
      result = await this.deps.grant.exchange(session.record, route.exchange!);
    }
    return this.settle(session, route, tokenId, result, spent);
  }

  private async settle(
    session: LoadedSession,
    route: RouteConfig,
    tokenId: string,
    result: RouteGrantResult,
    spent: string | undefined,
  ): Promise<RouteToken> {
    const { logger } = this.deps;
    const { sub } = session.record;
    const kind = route.audience !== undefined ? 'audience' : 'exchange';
    switch (result.kind) {
      case 'tokens': {
        let stored = session;
        const rotated =
          spent !== undefined && result.refreshToken !== undefined && result.refreshToken !== spent;
        if (rotated) {
          const refreshed = withRefreshToken(session.record, result.refreshToken!);
          await this.deps.grace.write(session.sid, spent!, refreshed);
          stored = await this.deps.refresher.store(session, refreshed);
        }
        await this.write(stored.sid, tokenId, result.token, stored.record);
        logger.info({ sub, route: route.prefix, kind, rotated }, 'route token obtained');
        return result.token;
      }
      case 'terminal':
        logger.info({ sub, reason: result.reason, ...result.details }, 'session ended by refresh');
        await this.deps.terminator.end(session.sid, 'refresh');
        throw new SessionExpiredError();
      case 'refused':
        logger.warn(
          { sub, route: route.prefix, kind, ...result.details },
          `the IdP refused the route's ${kind} token`,
        );
        // An exchange's invalid_grant may mean the user's grant is gone: the session's own refresh decides.
        if (kind === 'exchange' && result.error === 'invalid_grant')
          await this.deps.refresher.renewRefused(session);
        throw new ForbiddenError('The identity provider refused a token for this API.');
      case 'transient':
        logger[result.misconfigured ? 'error' : 'warn'](
          { sub, route: route.prefix, kind, ...result.details },
          `route ${kind} token request failed; session kept`,
        );
        throw new IdpUnavailableError(undefined, { cause: result.cause });
    }
  }

  private async renewOrGiveUp(lock: RefreshLock, record: SessionRecord): Promise<void> {
    if (await lock.renew()) return;
    this.deps.logger.warn({ sub: record.sub }, 'route token lock lost before the grant; nothing spent');
    throw new IdpUnavailableError('A token refresh is taking too long; try again shortly.');
  }

  private async read(sid: string, tokenId: string): Promise<RouteToken | undefined> {
    const raw = await this.deps.kv.getBytes(this.key(sid, tokenId));
    return raw === null ? undefined : this.open(sid, tokenId, raw);
  }

  private open(sid: string, tokenId: string, raw: Buffer): RouteToken | undefined {
    const cacheKey = `${sid} ${tokenId}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined && cached.raw.equals(raw)) return cached.token;
    const token = openRouteToken(this.deps.vault, sid, tokenId, raw);
    if (token === undefined) this.cache.delete(cacheKey);
    else this.cache.set(cacheKey, { raw: Buffer.from(raw), token: Object.freeze(token) });
    return token;
  }

  /** Kept until the token expires, at most until the session's absolute end (unreadable without the session anyway). */
  private async write(sid: string, tokenId: string, token: RouteToken, record: SessionRecord): Promise<void> {
    const ttlMs = Math.min(token.accessTokenExpiresAt, record.absoluteExpiresAt) - Date.now();
    if (ttlMs <= 0) return;
    await this.deps.kv.set(
      this.key(sid, tokenId),
      sealRouteToken(this.deps.vault, sid, tokenId, token),
      ttlMs,
    );
  }

  private stale(token: RouteToken): boolean {
    return needsRefresh(token, Date.now(), this.deps.refreshSkewMs);
  }
}

/** The session's tokens with the refresh token an audience grant rotated (its access token untouched). */
function withRefreshToken(record: SessionRecord, refreshToken: string): RefreshedTokens {
  return {
    tokens: { ...record.tokens, refreshToken },
    accessTokenExpiresAt: record.accessTokenExpiresAt,
    accessTokenIssuedAt: record.accessTokenIssuedAt,
    claims: record.claims,
  };
}
