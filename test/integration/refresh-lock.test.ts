/**
 * The refresh lock outlives its holder's worst case (issue 9, item 7). Two gateway instances share one
 * Redis and one IdP: A (in-process) reaches Redis over a slow link, B (a child process) directly. A's
 * store calls before the IdP call are slow (each just under the 1.5 s command timeout) and the IdP's
 * token endpoint is slow (just under the 10 s IdP timeout): together longer than a lock sized for the
 * IdP call alone. B, waiting for the lock, must not take it and spend the same refresh token again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, waitForStatus, type GatewayProcess } from '../helpers/process.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startSlowLink, type SlowLink } from '../helpers/slow-link.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** One way; a round trip (1.1 s) stays under the gateway's 1.5 s command timeout. */
const LINK_DELAY_MS = 550;
/** Under the gateway's 10 s IdP timeout. */
const TOKEN_DELAY_MS = 9_300;

let redis: RedisServer;
let link: SlowLink;
let upstream: Upstream;
let a: Stack;
let b: GatewayProcess;
let bUrl: string;

beforeAll(async () => {
  redis = await startRedis();
  link = await startSlowLink(redis.port);
  upstream = await startUpstream();
  a = await startStack({
    redis,
    env: { REDIS_URL: link.url },
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
  });
  const port = await freePort();
  bUrl = `http://127.0.0.1:${port}`;
  b = spawnGateway({ ...a.env, REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: 'warn' });
  await waitForStatus(`${bUrl}/readyz`, 200);
}, 60_000);
afterAll(async () => {
  b?.child.kill('SIGTERM');
  await b?.exited;
  await a?.stop();
  await link?.stop();
  await upstream?.stop();
  await redis?.stop();
});

describe('a refresh slowed by the store and the IdP, with a second instance waiting', () => {
  it('exactly one refresh_token grant, both requests served, the session kept', async () => {
    const alice = await signIn(a);
    await alice.expireAccessToken();
    const before = await alice.record();
    a.idp.resetCounts();
    const lockKey = a.parts.keys.refreshLock(alice.sid);

    link.setDelay(LINK_DELAY_MS);
    a.idp.setTokenDelay(TOKEN_DELAY_MS);
    try {
      const onA = alice.api('/api/a');
      // A holds the lock: now B needs the same session's refresh.
      await expect.poll(() => redis.client.exists(lockKey), { interval: 20, timeout: 5_000 }).toBe(1);
      const onB = fetch(`${bUrl}/api/b`, { headers: { cookie: alice.cookie, 'x-csrf': '1' } });
      const [resA, resB] = await Promise.all([onA, onB]);
      expect({ a: resA.status, b: resB.status }).toEqual({ a: 200, b: 200 });
    } finally {
      link.setDelay(0);
      a.idp.setTokenDelay(0);
    }

    expect(a.idp.counts.grants.refresh_token).toBe(1);
    expect(a.idp.counts.grantErrors.refresh_token ?? 0).toBe(0);
    expect(await redis.client.exists(a.parts.keys.session(alice.sid))).toBe(1);
    const after = await alice.record();
    expect(after.tokens.refreshToken).not.toBe(before.tokens.refreshToken);
    expect(new Set(upstream.bearerTokens())).toEqual(new Set([after.tokens.accessToken]));
    // Still signed in, with a refresh token the IdP accepts.
    await alice.expireAccessToken();
    expect((await alice.api('/api/c')).status).toBe(200);
    expect(a.idp.counts.grants.refresh_token).toBe(2);
  }, 60_000);
});
