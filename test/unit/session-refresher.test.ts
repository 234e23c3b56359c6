/**
 * The session layer's refresh algorithm (session/refresh/session-refresher.ts) with a fake IdP grant,
 * on the in-memory stores: single flight, the cross-instance lock, the grace entry, compare-and-set
 * retries, and every way a refresh ends a session (through the terminator: store, index, sockets, metric).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdpUnavailableError, SessionExpiredError } from '../../src/errors.js';
import type { GrantResult, RefreshableRecord, RefreshGrant } from '../../src/session/refresh/grant.js';
import { RefreshGrace } from '../../src/session/refresh/refresh-grace.js';
import { StoreRefreshLocks, type RefreshLocks } from '../../src/session/refresh/refresh-lock.js';
import { SessionRefresher } from '../../src/session/refresh/session-refresher.js';
import type { SessionRecord } from '../../src/session/records/record.js';
import { slid } from '../../src/session/records/record.js';
import { sampleRecord } from '../helpers/sessions.js';
import { sessionWorld, WORLD_ISSUER, type SessionWorld } from '../helpers/session-world.js';

const SKEW_MS = 30_000;

/** An IdP grant that answers what the test says, after an optional hold, and records what it saw. */
class FakeGrant implements RefreshGrant {
  spent: string[] = [];
  discarded: Array<string | undefined> = [];
  answer: (record: RefreshableRecord) => Promise<GrantResult> | GrantResult = (record) => rotated(record);
  async refresh(record: RefreshableRecord): Promise<GrantResult> {
    this.spent.push(record.tokens.refreshToken);
    return this.answer(record);
  }
  async discard(refreshToken: string | undefined): Promise<void> {
    this.discarded.push(refreshToken);
  }
}

/** A good answer: new access and refresh tokens, valid for a minute. */
function rotated(record: SessionRecord): GrantResult {
  const now = Date.now();
  return {
    kind: 'tokens',
    refreshed: {
      tokens: {
        ...record.tokens,
        accessToken: `at-${now}-${Math.random()}`,
        refreshToken: `rt-${Math.random()}`,
      },
      accessTokenIssuedAt: now,
      accessTokenExpiresAt: now + 60_000,
      claims: record.claims,
    },
  };
}

/** A session whose access token expires in 1 s: it needs a refresh. */
function staleRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return sampleRecord(now, {
    accessTokenIssuedAt: now - 59_000,
    accessTokenExpiresAt: now + 1_000,
    ...overrides,
  });
}

let w: SessionWorld;
let grant: FakeGrant;
let refresher: SessionRefresher;

function newRefresher(
  locks: RefreshLocks = new StoreRefreshLocks(w.stores.kv, w.keys, w.logger),
): SessionRefresher {
  return new SessionRefresher({
    records: w.records,
    locks,
    grace: new RefreshGrace(w.stores.kv, w.keys, w.vault),
    grant,
    terminator: w.terminator,
    logger: w.logger,
    metrics: w.metrics,
    refreshSkewMs: SKEW_MS,
  });
}

beforeEach(() => {
  w = sessionWorld();
  grant = new FakeGrant();
  refresher = newRefresher();
});
afterEach(() => w.stop());

/** Asserts the session was ended by the terminator: record, index entries, sockets, metric. */
async function expectEnded(sid: string, record: SessionRecord): Promise<void> {
  expect(await w.stores.kv.exists(w.keys.session(sid))).toBe(false);
  const bySub = w.keys.sessionsBySub(WORLD_ISSUER, record.sub);
  const bySid = w.keys.sessionsByIdpSid(WORLD_ISSUER, record.idpSid!);
  expect(await w.stores.sessionIndex.indexMembers(bySub)).toEqual([]);
  expect(await w.stores.sessionIndex.indexMembers(bySid)).toEqual([]);
  expect(w.listener.ended).toEqual([w.keys.sessionHash(sid)]);
  expect(await w.count('logouts', 'refresh')).toBe(1);
}

describe('SessionRefresher', () => {
  it('returns a fresh session as it is, without the lock or the grant', async () => {
    const { loaded } = await w.signIn(sampleRecord(Date.now()));
    expect(await refresher.fresh(loaded)).toBe(loaded);
    expect(grant.spent).toEqual([]);
  });

  it('single flight: parallel requests of a session share one spend; the result is stored', async () => {
    const { sid, loaded } = await w.signIn(staleRecord());
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    grant.answer = async (record) => {
      await held;
      return rotated(record);
    };
    const all = Promise.all(Array.from({ length: 5 }, () => refresher.fresh(loaded)));
    await new Promise((r) => setImmediate(r));
    release();
    const results = await all;

    expect(grant.spent).toEqual([loaded.record.tokens.refreshToken]);
    expect(new Set(results).size).toBe(1);
    const stored = (await w.records.read(sid))!;
    expect(stored.record.tokens.accessToken).toBe(results[0]!.record.tokens.accessToken);
    expect(stored.record.tokens.accessToken).not.toBe(loaded.record.tokens.accessToken);
    expect(await w.count('refreshes', 'ok')).toBe(1);
    // Shared in process, not through the lock (which would count `shared` and time the waits).
    expect(await w.count('refreshes', 'shared')).toBe(0);
    // The rotated result is kept under the spent token for stragglers; the lock is released.
    const grace = await new RefreshGrace(w.stores.kv, w.keys, w.vault).read(
      sid,
      loaded.record.tokens.refreshToken!,
    );
    expect(grace?.tokens.refreshToken).toBe(stored.record.tokens.refreshToken);
    expect(await w.stores.kv.exists(w.keys.refreshLock(sid))).toBe(false);
    expect(w.logs.json().find((l) => l.msg === 'access token refreshed')).toMatchObject({ rotated: true });
  });

  it('terminal: the session is ended through the terminator, 401 session_expired', async () => {
    const record = staleRecord();
    const { sid, loaded } = await w.signIn(record);
    grant.answer = () => ({
      kind: 'terminal',
      reason: 'the IdP refused the refresh',
      details: { idp: { status: 400 } },
    });

    await expect(refresher.fresh(loaded)).rejects.toBeInstanceOf(SessionExpiredError);
    await expectEnded(sid, record);
    expect(await w.count('refreshes', 'terminal')).toBe(1);
    expect(w.logs.json().find((l) => l.msg === 'session ended by refresh')).toMatchObject({
      sub: 'alice',
      reason: 'the IdP refused the refresh',
      idp: { status: 400 },
    });
  });

  it('an expired session without a refresh token is ended the same way, the grant never asked', async () => {
    const past = Date.now() - 1_000;
    const record = staleRecord({ accessTokenIssuedAt: past - 60_000, accessTokenExpiresAt: past });
    const { sid, loaded } = await w.signIn({
      ...record,
      tokens: { ...record.tokens, refreshToken: undefined },
    });
    await expect(refresher.fresh(loaded)).rejects.toBeInstanceOf(SessionExpiredError);
    await expectEnded(sid, record);
    expect(grant.spent).toEqual([]);
  });

  it('transient: the session is kept as it was (503), and the next request refreshes it', async () => {
    const { sid, loaded } = await w.signIn(staleRecord());
    grant.answer = () => ({ kind: 'transient', cause: new Error('IdP down') });
    await expect(refresher.fresh(loaded)).rejects.toBeInstanceOf(IdpUnavailableError);
    expect((await w.records.read(sid))!.raw.equals(loaded.raw)).toBe(true);
    expect(w.listener.ended).toEqual([]);
    expect(await w.count('logouts', 'refresh')).toBe(0);
    expect(await w.count('refreshes', 'transient')).toBe(1);
    expect(await w.stores.kv.exists(w.keys.refreshLock(sid))).toBe(false);

    grant.answer = (record) => rotated(record);
    const fresh = await refresher.fresh(loaded);
    expect(grant.spent).toEqual([loaded.record.tokens.refreshToken, loaded.record.tokens.refreshToken]);
    expect((await w.records.read(sid))!.record.tokens.accessToken).toBe(fresh.record.tokens.accessToken);
  });

  it('grace: a spent token seen again takes the result of its refresh, not a second spend', async () => {
    const { sid, loaded } = await w.signIn(staleRecord());
    // A holder spent this token and kept the result, then died before storing it.
    const earlier = rotated(loaded.record);
    if (earlier.kind !== 'tokens') throw new Error('unreachable');
    const spent = loaded.record.tokens.refreshToken!;
    await new RefreshGrace(w.stores.kv, w.keys, w.vault).write(sid, spent, earlier.refreshed);

    const fresh = await refresher.fresh(loaded);
    expect(grant.spent).toEqual([]);
    expect(fresh.record.tokens).toEqual(earlier.refreshed.tokens);
    expect((await w.records.read(sid))!.record.tokens).toEqual(earlier.refreshed.tokens);
    expect(await w.count('refreshes', 'grace')).toBe(1);
  });

  it('compare-and-set: a record changed during the spend is re-read and the tokens written into it', async () => {
    const { sid, loaded } = await w.signIn(staleRecord());
    const lifetimes = { idleTimeoutMs: 3_600_000, maxAgeMs: 12 * 3_600_000 };
    const slidRecord = slid(loaded.record, Date.now(), lifetimes);
    grant.answer = async (record) => {
      // A lazy idle slide on another instance lands while the IdP answers.
      expect(await w.records.replace(loaded, slidRecord)).not.toBeNull();
      return rotated(record);
    };
    const fresh = await refresher.fresh(loaded);
    const stored = (await w.records.read(sid))!.record;
    expect(stored.tokens.accessToken).toBe(fresh.record.tokens.accessToken);
    expect(stored.idleExpiresAt).toBe(slidRecord.idleExpiresAt);
    expect(grant.spent).toHaveLength(1);
  });

  it('logged out while refreshing: the new refresh token is discarded, 401', async () => {
    const { sid, loaded } = await w.signIn(staleRecord());
    let issued: string | undefined;
    grant.answer = async (record) => {
      expect(await w.terminator.end(sid, 'rp')).not.toBeNull();
      const answer = rotated(record);
      if (answer.kind === 'tokens') issued = answer.refreshed.tokens.refreshToken;
      return answer;
    };
    await expect(refresher.fresh(loaded)).rejects.toBeInstanceOf(SessionExpiredError);
    expect(grant.discarded).toEqual([issued]);
    expect(await w.stores.kv.exists(w.keys.session(sid))).toBe(false);
  });

  it('waits for another holder of the lock and shares its result', async () => {
    const { sid, loaded } = await w.signIn(staleRecord());
    await w.stores.kv.setIfAbsent(w.keys.refreshLock(sid), 'another-instance', 15_000);
    // Resolves when the refresher looks at the lock as a waiter does.
    let peeked!: () => void;
    const waiting = new Promise<void>((r) => (peeked = r));
    const store = new StoreRefreshLocks(w.stores.kv, w.keys, w.logger);
    const watched: RefreshLocks = {
      forSession: (id) => {
        const lock = store.forSession(id);
        const peek = lock.peek.bind(lock);
        return Object.assign(lock, { peek: () => peek().finally(peeked) });
      },
    };
    const pending = newRefresher(watched).fresh(loaded);
    await Promise.race([
      waiting,
      pending.then(() => {
        throw new Error('answered without waiting for the holder');
      }),
    ]);
    // The other instance stores a fresh token and releases its lock.
    const now = Date.now();
    await w.records.replace(loaded, {
      ...loaded.record,
      accessTokenIssuedAt: now,
      accessTokenExpiresAt: now + 60_000,
    });
    await w.stores.kv.deleteIfEquals(w.keys.refreshLock(sid), 'another-instance');
    expect((await pending).record.accessTokenExpiresAt).toBe(now + 60_000);
    expect(grant.spent).toEqual([]);
    expect(await w.count('refreshes', 'shared')).toBe(1);
    expect(
      (await w.metrics.refreshLockWait.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value,
    ).toBe(1);
  });

  it('a lock that cannot be renewed right before the spend: the token is not spent (503)', async () => {
    const { sid, loaded } = await w.signIn(staleRecord());
    const store = new StoreRefreshLocks(w.stores.kv, w.keys, w.logger);
    const losing: RefreshLocks = {
      forSession: (id) => Object.assign(store.forSession(id), { renew: async () => false }),
    };
    await expect(newRefresher(losing).fresh(loaded)).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(grant.spent).toEqual([]);
    expect(await w.records.read(sid)).not.toBeNull();
    expect(w.logs.text()).toContain('refresh lock lost before the refresh; refresh token not spent');
  });
});
