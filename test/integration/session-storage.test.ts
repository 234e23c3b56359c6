import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoredSession } from '../../src/session/records/sealed-record.js';
import { CLIENT_ID, signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { getSigningKey } from '../helpers/idp.js';
import { legacyStoredSession } from '../helpers/sessions.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** What a signed-in browser costs in Redis, and sessions stored by the previous gateway version. */

let upstream: Upstream;
let stack: Stack;
beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({
    backchannel: true,
    loginRateLimit: 1_000,
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
  });
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});

function keysOf(user: SignedIn, record: { sub: string; idpSid: string | undefined }) {
  const { keys } = stack.parts;
  return {
    session: keys.session(user.sid),
    bySub: keys.sessionsBySub(stack.idp.issuer, record.sub),
    bySid: keys.sessionsByIdpSid(stack.idp.issuer, record.idpSid!),
    legacyBySub: keys.legacySessionsBySub(stack.idp.issuer, record.sub),
    legacyBySid: keys.legacySessionsByIdpSid(stack.idp.issuer, record.idpSid!),
  };
}

describe('Redis per signed-in session', () => {
  it('a sign-in leaves its session and two small index hashes, 2 KiB at most together, all with TTLs', async () => {
    await stack.redis.flush();
    const users = [];
    for (let i = 0; i < 10; i++) users.push(await signIn(stack, `budget${i}`));
    const client = stack.redis.client;
    const dump = await stack.redis.dumpAll();
    // Nothing else: no pending login, no login index. (One rate-limit counter for the test's address.)
    expect(dump.filter((e) => !e.key.startsWith('bff:ratelimit:'))).toHaveLength(users.length * 3);
    for (const entry of dump) expect(entry.ttlMs, entry.key).toBeGreaterThan(0);

    for (const user of users) {
      const k = keysOf(user, await user.record());
      expect(await client.type(k.bySub)).toBe('hash');
      expect(await client.hkeys(k.bySid)).toEqual([stack.parts.keys.sessionHash(user.sid)]);
      let bytes = 0;
      for (const key of [k.session, k.bySub, k.bySid])
        bytes += Number(await client.memory('USAGE', key, 'SAMPLES', 0));
      expect(bytes).toBeLessThanOrEqual(2048);
      expect((await client.getBuffer(k.session))!.length).toBeLessThan(1024);
    }
  });
});

describe('sessions stored by the previous version (rolling upgrade)', () => {
  /** Rewrites a session as gateway 0.1 stored it: JSON value, back-channel indexes as Redis sets. */
  async function storeAsPreviousVersion(user: SignedIn, changes: object = {}) {
    const record = { ...(await user.record()), ...changes };
    const k = keysOf(user, record);
    const client = stack.redis.client;
    const ttlMs = await client.pttl(k.session);
    await client.set(k.session, legacyStoredSession(stack.parts.vault, user.sid, record), 'PX', ttlMs);
    await client.del(k.bySub, k.bySid);
    for (const key of [k.legacyBySub, k.legacyBySid]) {
      await client.sadd(key, stack.parts.keys.sessionHash(user.sid));
      await client.pexpire(key, 3600_000);
    }
    return { record, k };
  }

  it('is served on /auth/session and /api, refreshed in place, and written back in the new format', async () => {
    const alice = await signIn(stack, 'alice');
    const now = Date.now();
    const { record, k } = await storeAsPreviousVersion(alice, {
      accessTokenIssuedAt: now - 61_000,
      accessTokenExpiresAt: now - 1_000,
    });
    expect((await stack.redis.client.get(k.session))!.startsWith('{"cookie":')).toBe(true);

    const session = await alice.api('/auth/session');
    expect(session.status).toBe(200);
    expect(await session.json()).toEqual({
      authenticated: true,
      user: record.claims,
      expiresAt: Math.floor(record.absoluteExpiresAt / 1000),
    });

    const grants = stack.idp.counts.grants.refresh_token ?? 0;
    expect((await alice.api('/api/after-upgrade')).status).toBe(200);
    expect(stack.idp.counts.grants.refresh_token).toBe(grants + 1);
    const stored = (await stack.redis.client.getBuffer(k.session))!;
    expect(stored[0]).toBe(0x02);
    const refreshed = openStoredSession(stack.parts.vault, alice.sid, stored)!;
    expect(refreshed.tokens.accessToken).not.toBe(record.tokens.accessToken);
    expect(upstream.bearerTokens().at(-1)).toBe(refreshed.tokens.accessToken);
    expect(refreshed.claims).toEqual(record.claims);
    expect(refreshed.absoluteExpiresAt).toBe(record.absoluteExpiresAt);
  });

  async function logoutToken(claims: JWTPayload): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: stack.idp.issuer,
      aud: CLIENT_ID,
      iat: now,
      exp: now + 120,
      jti: randomUUID(),
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-rs256', typ: 'logout+jwt' })
      .sign(await importJWK(await getSigningKey(), 'RS256'));
  }
  async function backchannelLogout(claims: JWTPayload): Promise<void> {
    const res = await fetch(`${stack.baseUrl}/auth/backchannel-logout`, {
      method: 'POST',
      body: new URLSearchParams({ logout_token: await logoutToken(claims) }),
    });
    expect(res.status).toBe(200);
  }

  it('back-channel logout finds sessions in the indexes the previous version wrote, by sid and by sub', async () => {
    const bySid = await signIn(stack, 'carol');
    const { record, k } = await storeAsPreviousVersion(bySid);
    await backchannelLogout({ sid: record.idpSid });
    expect(await stack.redis.client.exists(k.session, k.legacyBySid)).toBe(0);
    expect((await bySid.api('/auth/session')).status).toBe(401);

    const old = await signIn(stack, 'dave');
    const legacy = await storeAsPreviousVersion(old);
    const current = await signIn(stack, 'dave'); // indexed by this version
    await backchannelLogout({ sub: 'dave' });
    const { keys } = stack.parts;
    expect(await stack.redis.client.exists(legacy.k.session, legacy.k.legacyBySub, legacy.k.bySub)).toBe(0);
    expect(await stack.redis.client.exists(keys.session(current.sid))).toBe(0);
    expect((await old.api('/auth/session')).status).toBe(401);
    expect((await current.api('/auth/session')).status).toBe(401);
  });
});

describe('without Redis (the in-memory store)', () => {
  it('signs in, serves, refreshes and signs out through the same session records', async () => {
    const memory = await startStack({
      sharedIdp: stack.idp,
      redisEnv: {},
      routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
    });
    try {
      const erin = await signIn(memory, 'erin');
      expect((await erin.api('/auth/session')).status).toBe(200);
      expect((await erin.api('/api/one')).status).toBe(200);
      const before = await erin.record();
      expect(upstream.bearerTokens().at(-1)).toBe(before.tokens.accessToken);

      await erin.expireAccessToken();
      expect((await erin.api('/api/two')).status).toBe(200);
      const after = await erin.record();
      expect(after.tokens.accessToken).not.toBe(before.tokens.accessToken);
      expect(upstream.bearerTokens().at(-1)).toBe(after.tokens.accessToken);

      expect((await erin.api('/auth/logout', { method: 'POST' })).status).toBe(200);
      expect(await memory.parts.records.read(erin.sid)).toBeNull();
      expect((await erin.api('/api/three')).status).toBe(401);
    } finally {
      await memory.stop();
    }
  });
});
