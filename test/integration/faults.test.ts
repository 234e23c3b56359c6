import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, waitForStatus } from '../helpers/process.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let redis: RedisServer;
let stack: Stack;

beforeAll(async () => {
  upstream = await startUpstream();
  redis = await startRedis({ appendOnly: true });
  stack = await startStack({ redis, routes: [{ prefix: '/api', target: upstream.url, token: 'user' }] });
});
afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  stack.idp.resetCounts();
});

describe('faults: every answer is a contract answer, and no session is lost or corrupted', () => {
  it('Redis killed: 503 (not a hang); restarted: the same session is served again', async () => {
    const alice = await signIn(stack);
    const before = await alice.record();
    await redis.kill();
    try {
      const res = await alice.api('/api/x');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'session_store_unavailable', message: expect.any(String) });
      expect((await alice.browser.fetch(`${stack.baseUrl}/auth/session`)).status).toBe(503);
      expect((await fetch(`${stack.baseUrl}/readyz`)).status).toBe(503);
      expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await redis.restart();
    }
    await expect.poll(async () => (await alice.api('/api/x')).status, { timeout: 15_000 }).toBe(200);
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${before.tokens.accessToken}`);
    expect((await alice.record()).tokens.refreshToken).toBe(before.tokens.refreshToken);
  });

  it('Redis paused during the login callback: a 503 page, no session; after it resumes, login works', async () => {
    const { startLogin, completeAtIdp, callback } = await import('../helpers/login.js');
    const browser = stack.browser();
    const authorize = await startLogin(browser, stack.baseUrl);
    const cb = await completeAtIdp(browser, authorize, 'alice');
    redis.pause();
    let page;
    try {
      page = await callback(browser, cb);
    } finally {
      redis.resume();
    }
    expect(page.response.status).toBe(503);
    expect(page.body).toContain('session_store_unavailable');
    expect(browser.jar.get(stack.baseUrl, 'bff-session')).toBeUndefined();
    await expect
      .poll(async () => (await fetch(`${stack.baseUrl}/readyz`)).status, { timeout: 10_000 })
      .toBe(200);
    const again = await signIn(stack);
    expect((await again.api('/api/x')).status).toBe(200);
  });

  it('an upstream that resets mid-body: the client sees a broken response, not a short 200; the session is fine', async () => {
    const alice = await signIn(stack);
    const res = await alice.api('/api/reset-mid-body');
    expect(res.status).toBe(200); // the headers had already been forwarded
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect((await alice.api('/api/x')).status).toBe(200);
  });

  it('a gateway instance SIGKILLed during a refresh: the lock expires, another instance refreshes, the user stays signed in', async () => {
    const alice = await signIn(stack);
    await alice.expireAccessToken();
    const port = await freePort();
    const doomed = spawnGateway({
      ...stack.env,
      REDIS_URL: redis.url,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200);

    stack.idp.setHanging(true);
    const lockKey = stack.parts.keys.refreshLock(alice.sid);
    const pending = fetch(`http://127.0.0.1:${port}/api/x`, {
      headers: { cookie: alice.cookie, 'x-csrf': '1' },
    }).catch(() => 'died');
    // The doomed instance holds the lock and waits for the IdP.
    await expect
      .poll(async () => (await redis.client.exists(lockKey)) === 1 && stack.idp.heldRequests() === 1, {
        timeout: 5000,
      })
      .toBe(true);
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');
    expect(await pending).toBe('died');
    stack.idp.setHanging(false); // its refresh never reached the token endpoint's logic

    const res = await alice.api('/api/y');
    expect(res.status).toBe(200);
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
    const after = await alice.record();
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${after.tokens.accessToken}`);
    expect(await redis.client.exists(lockKey)).toBe(0);
  });
});
