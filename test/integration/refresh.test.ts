import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getSetCookie } from '../helpers/cookie-jar.js';
import { CLIENT_ID, CLIENT_SECRET, signIn, startStack, type Stack } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, waitForStatus, type GatewayProcess } from '../helpers/process.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let stack: Stack;

beforeAll(async () => {
  upstream = await startUpstream();
  // Refresh-token rotation on every refresh (the helper's default) and short access tokens.
  stack = await startStack({
    idp: { accessTokenTtl: 2 },
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
  });
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});
/** Every access token an upstream received during this file, for the log check at its end. */
const tokensSeen = new Set<string>();
afterEach(() => {
  for (const token of upstream.bearerTokens()) if (token) tokensSeen.add(token);
});
beforeEach(() => {
  upstream.reset();
  stack.idp.resetCounts();
});

describe('refresh on expiry', () => {
  it('once the IdP considers the token expired, the next request is served with a new one (same session id)', async () => {
    const alice = await signIn(stack);
    const first = await alice.record();
    expect((await alice.api('/api/a')).status).toBe(200);
    expect(upstream.bearerTokens()).toEqual([first.tokens.accessToken]);

    await expect
      .poll(
        async () => (await stack.idp.introspect(first.tokens.accessToken, CLIENT_ID, CLIENT_SECRET)).active,
        { timeout: 5000, interval: 100 },
      )
      .toBe(false);
    const res = await alice.api('/api/b');
    expect(res.status).toBe(200);
    expect(getSetCookie(res, 'bff-session')).toBeUndefined();

    const second = await alice.record();
    expect(second.tokens.accessToken).not.toBe(first.tokens.accessToken);
    expect(second.tokens.refreshToken).not.toBe(first.tokens.refreshToken);
    expect(upstream.bearerTokens()[1]).toBe(second.tokens.accessToken);
    expect(await stack.idp.introspect(second.tokens.accessToken, CLIENT_ID, CLIENT_SECRET)).toMatchObject({
      active: true,
      sub: 'alice',
    });
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
  });
});

describe('the refresh storm', () => {
  it('50 parallel requests right after expiry: all 200, exactly one refresh_token grant', async () => {
    const alice = await signIn(stack);
    await alice.expireAccessToken();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => alice.api(`/api/storm/${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
    expect(stack.idp.counts.grantErrors.refresh_token ?? 0).toBe(0);
    const record = await alice.record();
    expect(new Set(upstream.bearerTokens())).toEqual(new Set([record.tokens.accessToken]));
  });

  it('two gateway processes sharing one Redis, 25 requests each: exactly one grant', async () => {
    const alice = await signIn(stack);
    const port = await freePort();
    const other: GatewayProcess = spawnGateway({ ...stack.env, PORT: String(port), LOG_LEVEL: 'warn' });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200);
      await alice.expireAccessToken();
      const call = (base: string, i: number) =>
        fetch(`${base}/api/two/${i}`, { headers: { cookie: alice.cookie, 'x-csrf': '1' } }).then(
          (r) => r.status,
        );
      const statuses = await Promise.all(
        Array.from({ length: 25 }, (_, i) => [
          call(stack.baseUrl, i),
          call(`http://127.0.0.1:${port}`, i),
        ]).flat(),
      );
      expect(statuses).toEqual(Array(50).fill(200));
      expect(stack.idp.counts.grants.refresh_token).toBe(1);
      expect(stack.idp.counts.grantErrors.refresh_token ?? 0).toBe(0);
      expect(new Set(upstream.bearerTokens())).toEqual(new Set([(await alice.record()).tokens.accessToken]));
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
    }
  });

  it('a straggler that still holds the spent refresh token is served from the grace entry, no second grant', async () => {
    const alice = await signIn(stack);
    await alice.expireAccessToken();
    const key = stack.parts.keys.session(alice.sid);
    const stale = (await stack.redis.client.getBuffer(key))!;
    expect((await alice.api('/api/one')).status).toBe(200);
    const refreshed = await alice.record();
    expect(stack.idp.counts.grants.refresh_token).toBe(1);

    // A stale copy of the session (the spent refresh token, the expired access token) comes back.
    await stack.redis.client.set(key, stale, 'PX', 60_000);
    expect((await alice.api('/api/two')).status).toBe(200);
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
    expect(upstream.bearerTokens()).toEqual([refreshed.tokens.accessToken, refreshed.tokens.accessToken]);
    expect((await alice.record()).tokens.refreshToken).toBe(refreshed.tokens.refreshToken);
  });
});

describe('refresh failures', () => {
  it('the grant revoked at the IdP: 401 session_expired, cookie cleared, session key gone', async () => {
    const alice = await signIn(stack);
    const rt = (await alice.record()).tokens.refreshToken!;
    const revoke = await fetch(stack.idp.url('/token/revocation'), {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: rt, token_type_hint: 'refresh_token' }),
    });
    expect(revoke.status).toBe(200);
    await alice.expireAccessToken();

    const res = await alice.api('/api/x');
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'session_expired', message: expect.any(String) });
    const cleared = getSetCookie(res, 'bff-session')!;
    expect(cleared.value).toBe('');
    expect(await stack.redis.client.exists(stack.parts.keys.session(alice.sid))).toBe(0);
    expect(upstream.requests).toHaveLength(0);
    expect(stack.idp.counts.grantErrors.refresh_token).toBe(1);
  });

  it('the IdP down during a needed refresh: 503 idp_unavailable, session kept, served again once it is back', async () => {
    const alice = await signIn(stack);
    await alice.expireAccessToken();
    const before = await alice.record();
    stack.idp.setDown(true);
    try {
      const res = await alice.api('/api/x');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'idp_unavailable', message: expect.any(String) });
      expect(getSetCookie(res, 'bff-session')).toBeUndefined();
      const kept = await alice.record();
      expect(kept.tokens.refreshToken).toBe(before.tokens.refreshToken);
      expect(upstream.requests).toHaveLength(0);
    } finally {
      stack.idp.setDown(false);
    }
    const res = await alice.api('/api/x');
    expect(res.status).toBe(200);
    const after = await alice.record();
    expect(after.tokens.accessToken).not.toBe(before.tokens.accessToken);
    expect(upstream.bearerTokens()).toEqual([after.tokens.accessToken]);
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
  });
});

describe('an IdP that does not rotate refresh tokens', () => {
  it('each expiry is a real refresh with the same refresh token (no stale grace entry is reused)', async () => {
    const fixed = await startStack({
      idp: { rotateRefreshToken: false, accessTokenTtl: 60 },
      redis: stack.redis,
      routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
    });
    try {
      const alice = await signIn(fixed);
      const first = await alice.record();
      await alice.expireAccessToken();
      expect((await alice.api('/api/1')).status).toBe(200);
      const second = await alice.record();
      expect(second.tokens.refreshToken).toBe(first.tokens.refreshToken);
      expect(second.tokens.accessToken).not.toBe(first.tokens.accessToken);
      await alice.expireAccessToken();
      expect((await alice.api('/api/2')).status).toBe(200);
      const third = await alice.record();
      expect(third.tokens.accessToken).not.toBe(second.tokens.accessToken);
      expect(fixed.idp.counts.grants.refresh_token).toBe(2);
      expect(upstream.bearerTokens()).toEqual([second.tokens.accessToken, third.tokens.accessToken]);
    } finally {
      await fixed.stop();
    }
  });
});

describe('idle timeout on the proxy path', () => {
  it('slides lazily: one write once a tenth of the idle timeout has passed, none otherwise', async () => {
    const idle = await startStack({
      sharedIdp: stack.idp,
      redis: stack.redis,
      env: { SESSION_IDLE_TIMEOUT: '20s' },
      routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
    });
    try {
      const alice = await signIn(idle);
      const key = idle.parts.keys.session(alice.sid);
      // Pretend the last slide was 5 s ago.
      const loaded = (await idle.parts.records.read(alice.sid))!;
      await idle.parts.records.replace(loaded, { ...loaded.record, idleExpiresAt: Date.now() + 15_000 });
      expect(await stack.redis.client.pttl(key)).toBeLessThanOrEqual(15_000);

      expect((await alice.api('/api/x')).status).toBe(200);
      const slid = await alice.record();
      expect(slid.idleExpiresAt).toBeGreaterThan(Date.now() + 18_000);
      expect(await stack.redis.client.pttl(key)).toBeGreaterThan(18_000);

      // Just slid: the next request writes nothing.
      const raw = await stack.redis.client.getBuffer(key);
      expect((await alice.api('/api/y')).status).toBe(200);
      expect(await stack.redis.client.getBuffer(key)).toEqual(raw);
    } finally {
      await idle.stop();
    }
  });
});

describe('secrets stay out of the logs', () => {
  it('no access or refresh token seen during this file appears in a log line', async () => {
    // A refresh of its own, so it holds when run alone; plus every token the file's other tests saw.
    const alice = await signIn(stack);
    const before = await alice.record();
    await alice.expireAccessToken();
    expect((await alice.api('/api/logged')).status).toBe(200);
    const after = await alice.record();
    expect(after.tokens.refreshToken).not.toBe(before.tokens.refreshToken);
    const seen = new Set(tokensSeen);
    for (const record of [before, after])
      for (const token of [record.tokens.accessToken, record.tokens.refreshToken, record.tokens.idToken])
        if (token) seen.add(token);
    for (const token of upstream.bearerTokens()) if (token) seen.add(token);
    expect(seen.size).toBeGreaterThanOrEqual(5);

    const text = stack.logs.text();
    expect(text).toContain('access token refreshed');
    for (const m of text.matchAll(/"(?:accessToken|refreshToken|access_token|refresh_token)":"([^"]+)"/g))
      seen.add(m[1]!);
    expect(text).not.toMatch(/Bearer [A-Za-z0-9_-]{20,}/);
    for (const token of seen) if (token.length > 10) expect(text).not.toContain(token);
  });
});
