/**
 * RATE_LIMIT_LOGIN (issue 9, Found 8 / Deliver 4): counted in the store, so two instances (this
 * process's and a child process on the same Redis) enforce one limit together; /auth/callback is
 * limited too; 0 turns it off; and a flood of login starts from rotating client addresses leaves a
 * bounded number of keys, each with a TTL.
 */
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GLOBAL_FACTOR } from '../../src/http/auth/rate-limit.js';
import { startStack, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp, startLogin } from '../helpers/login.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, waitForStatus, type GatewayProcess } from '../helpers/process.js';

const LIMIT = 4;
const CLIENT = '127.0.0.1';

let a: Stack;
let b: GatewayProcess;
let bBase: string;

beforeAll(async () => {
  a = await startStack({ env: { RATE_LIMIT_LOGIN: String(LIMIT) } });
  const port = await freePort();
  // Same env (Redis, IdP client, RATE_LIMIT_LOGIN), another port: a second instance.
  b = spawnGateway({ ...a.env, PORT: String(port), LOG_LEVEL: 'warn' });
  bBase = `http://127.0.0.1:${port}`;
  await waitForStatus(`${bBase}/readyz`, 200);
});
afterAll(async () => {
  b?.child.kill('SIGTERM');
  if (b) expect(await b.exited).toBe(0);
  await a?.stop();
});
beforeEach(async () => {
  await a.redis.flush(); // a fresh window for each test
});

function loginStart(base: string): Promise<Response> {
  return fetch(`${base}/auth/login`, { redirect: 'manual' });
}
function forgedCallback(base: string): Promise<Response> {
  return fetch(`${base}/auth/callback?code=forged&state=forged`, {
    redirect: 'manual',
    headers: { accept: 'text/html' },
  });
}

describe('RATE_LIMIT_LOGIN, shared by all instances', () => {
  it('starts on A and on B count together: the (limit+1)-th across both is 429 with Retry-After', async () => {
    for (const base of [a.baseUrl, bBase, a.baseUrl, bBase])
      expect((await loginStart(base)).status).toBe(302);
    for (const base of [bBase, a.baseUrl]) {
      const refused = await loginStart(base);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('cache-control')).toBe('no-store');
      expect(await refused.text()).toContain('rate_limited');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Retry-After is what is left of the window, not a constant: shorten the window, ask again.
    await a.redis.client.pexpire(a.parts.keys.rateLimit('login', CLIENT), 20_000);
    const later = await loginStart(bBase);
    expect(later.status).toBe(429);
    expect(Number(later.headers.get('retry-after'))).toBeGreaterThanOrEqual(19);
    expect(Number(later.headers.get('retry-after'))).toBeLessThanOrEqual(20);
    // Every key the limit wrote expires.
    for (const key of await a.redis.dumpAll()) expect(key.ttlMs).toBeGreaterThan(0);
  });

  it('the callback is limited too (its own counter): an HTML 429 page, and the pending login survives it', async () => {
    const browser = a.browser();
    const callbackUrl = await completeAtIdp(browser, await startLogin(browser, a.baseUrl), 'alice');
    for (const base of [a.baseUrl, bBase, a.baseUrl, bBase])
      expect((await forgedCallback(base)).status).toBe(400);

    const refused = await callback(browser, callbackUrl, a.baseUrl);
    expect(refused.response.status).toBe(429);
    expect(refused.body).toContain('<code id="error-code">rate_limited</code>');
    expect(refused.response.headers.get('content-type')).toContain('text/html');
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.response.headers.get('set-cookie') ?? '').not.toContain('bff-session=s');
    expect((await forgedCallback(a.baseUrl)).status).toBe(429);
    // Login starts are counted apart: a sign-in is one start and one callback.
    expect((await loginStart(a.baseUrl)).status).toBe(302);

    // When the window ends (here: its counter removed), the same callback completes the sign-in.
    await a.redis.client.del(a.parts.keys.rateLimit('callback', CLIENT));
    const done = await callback(browser, callbackUrl, a.baseUrl);
    expect(done.response.status).toBe(200);
  });

  it('RATE_LIMIT_LOGIN=0 turns it off and writes no counter', async () => {
    const off = await startStack({ redis: a.redis, sharedIdp: a.idp, env: { RATE_LIMIT_LOGIN: '0' } });
    try {
      for (let i = 0; i < 3 * LIMIT; i++) expect((await loginStart(off.baseUrl)).status).toBe(302);
      for (let i = 0; i < 3 * LIMIT; i++) expect((await forgedCallback(off.baseUrl)).status).toBe(400);
      expect((await a.redis.dumpAll()).filter((k) => k.key.includes(':ratelimit:'))).toEqual([]);
    } finally {
      await off.stop();
    }
  });

  it('without Redis (one development process) the same limit holds in memory', async () => {
    const memory = await startStack({ sharedIdp: a.idp, redisEnv: {}, env: { RATE_LIMIT_LOGIN: '2' } });
    try {
      for (let i = 0; i < 2; i++) expect((await loginStart(memory.baseUrl)).status).toBe(302);
      const refused = await loginStart(memory.baseUrl);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      for (let i = 0; i < 2; i++) expect((await forgedCallback(memory.baseUrl)).status).toBe(400);
      expect((await forgedCallback(memory.baseUrl)).status).toBe(429);
    } finally {
      await memory.stop();
    }
  });
});

/** A different client address for every request. */
const rotating = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** `count` GETs over `concurrency` keep-alive connections, from the X-Forwarded-For `address(i)`. */
async function flood(
  base: string,
  count: number,
  concurrency: number,
  address: (i: number) => string = rotating,
): Promise<Map<number, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map<number, number>();
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const forwarded = address(i);
      const req = http.get(
        `${base}/auth/login`,
        { agent, headers: { 'x-forwarded-for': forwarded } },
        (res) => {
          statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
    });
  const worker = async () => {
    while (next < count) await one(next++);
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return statuses;
}

describe('a login flood from rotating client addresses', () => {
  const limit = 3;
  const allowed = limit * GLOBAL_FACTOR;
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      sharedIdp: a.idp,
      env: { RATE_LIMIT_LOGIN: String(limit), TRUST_PROXY: 'loopback', LOG_LEVEL: 'warn' },
    });
  });
  afterAll(async () => {
    await s?.stop();
  });
  beforeEach(async () => {
    await s.redis.flush();
  });

  it('10,000 starts leave a bounded number of keys, each with a TTL', async () => {
    const statuses = await flood(s.baseUrl, 10_000, 32);
    expect(statuses.get(302)).toBe(allowed);
    expect(statuses.get(429)).toBe(10_000 - allowed);

    const keys = await s.redis.dumpAll();
    // One global counter, one counter per allowed client, a pending login and its index per start.
    const bound = 1 + allowed + 2 * allowed;
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThanOrEqual(bound);
    expect(keys.filter((k) => k.ttlMs <= 0)).toEqual([]);
  }, 30_000);

  it('one noisy address does not use up the budget of all clients', async () => {
    const statuses = await flood(s.baseUrl, allowed + 50, 16, () => '10.9.9.9');
    expect(statuses.get(302)).toBe(limit);
    const other = await flood(s.baseUrl, 1, 1, () => '10.8.8.8');
    expect([...other]).toEqual([[302, 1]]);
  });
});
