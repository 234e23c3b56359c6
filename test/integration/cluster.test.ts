/**
 * The gateway on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES): login, the proxy, the refresh
 * storm and logout work, and the key layout is Cluster-ready (TTLs, hash tags, spread over masters).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp, startLogin } from '../helpers/login.js';
import { startRedisCluster, waitUntil, type RedisClusterServer } from '../helpers/redis-cluster.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let cluster: RedisClusterServer;
let stack: Stack<undefined>;

beforeAll(async () => {
  upstream = await startUpstream();
  cluster = await startRedisCluster();
  stack = await startStack({
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
    redisEnv: { REDIS_CLUSTER_NODES: cluster.nodesEnv },
  });
});
afterAll(async () => {
  await stack?.stop();
  await cluster?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  stack.idp.resetCounts();
});

/** Every key on every master with its serialized value (DUMP), to see what a step created or rewrote. */
async function snapshot(): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const entry of await cluster.dumpAll()) {
    const node = cluster.nodes.find((n) => n.port === entry.port)!;
    const value = await node.client.dumpBuffer(entry.key);
    if (value) values.set(entry.key, value.toString('base64'));
  }
  return values;
}

async function keySet(): Promise<Set<string>> {
  return new Set((await cluster.dumpAll()).map((e) => e.key));
}

function difference(after: Iterable<string>, before: { has(key: string): boolean }): string[] {
  return [...after].filter((key) => !before.has(key));
}

/**
 * Signs `login` in, then catches its refresh in flight (the IdP holds the token request): the key that
 * appears then is the lock, the one left after it is the grace entry, the one rewritten is the session.
 */
async function keysOfOneSession(login: string) {
  const user = await signIn(stack, login);
  await user.expireAccessToken();
  const before = await snapshot();
  const gate = stack.idp.holdTokenRequests();
  const request = user.api('/api/refresh-now');
  let during: Map<string, string>;
  try {
    await waitUntil('the refresh to reach the IdP', async () => gate.held() === 1);
    during = await snapshot();
  } finally {
    gate.release();
  }
  expect((await request).status).toBe(200);
  const after = await snapshot();
  return {
    sid: user.sid,
    lock: difference(during.keys(), before),
    grace: difference(after.keys(), before),
    rewritten: [...after.keys()].filter((key) => before.has(key) && before.get(key) !== after.get(key)),
  };
}

describe('the gateway on a Redis Cluster', () => {
  it('is configured for the cluster, not a single Redis', async () => {
    expect(stack.env.REDIS_URL).toBeUndefined();
    expect(stack.config.redis.mode).toBe('cluster');
    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { store: 'ok' } });
  });

  it('login, /auth/session and a proxied call carrying the access token', async () => {
    const alice = await signIn(stack, 'alice');
    expect(await cluster.client.exists(stack.parts.keys.session(alice.sid))).toBe(1);

    const session = await alice.api('/auth/session');
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ authenticated: true, user: { sub: 'alice' } });

    const res = await alice.api('/api/items/1?x=1');
    expect(res.status).toBe(200);
    const record = await alice.record();
    expect(upstream.requests.map((r) => r.url)).toEqual(['/items/1?x=1']);
    expect(upstream.bearerTokens()).toEqual([record.tokens.accessToken]);
  });

  it('the refresh storm: 50 parallel requests after expiry, all 200, exactly one refresh_token grant', async () => {
    const alice = await signIn(stack, 'alice');
    const spent = (await alice.record()).tokens.refreshToken!;
    await alice.expireAccessToken();

    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => alice.api(`/api/storm/${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
    expect(stack.idp.counts.grantErrors.refresh_token ?? 0).toBe(0);
    const record = await alice.record();
    expect(record.tokens.refreshToken).not.toBe(spent);
    expect(new Set(upstream.bearerTokens())).toEqual(new Set([record.tokens.accessToken]));

    // The grace entry of the spent refresh token is there (where its keys live: see the key layout test).
    const grace = stack.parts.keys.refreshGrace(alice.sid, spent);
    expect(await cluster.client.pttl(grace)).toBeGreaterThan(0);
  });

  it('key layout: every key has a TTL, the keys of one session share a slot, sessions spread over the masters', async () => {
    // Ten sessions: the chance that all ten land on one of three masters is 3/3^10. The keys of each
    // are found in the cluster (what its sign-in and refresh created or rewrote), never built by name.
    const masters = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const keys = await keysOfOneSession(`user${i}`);
      expect(keys.lock, 'a refresh in flight holds one new key (its lock)').toHaveLength(1);
      expect(keys.grace, 'a finished refresh leaves one new key (its grace entry)').toHaveLength(1);
      expect(keys.rewritten, 'a refresh rewrites one existing key (the session)').toHaveLength(1);
      const slots = new Set<number>();
      for (const key of [...keys.lock, ...keys.grace, ...keys.rewritten])
        slots.add(await cluster.keyslot(key));
      expect(slots.size, `slots of ${[...keys.lock, ...keys.grace, ...keys.rewritten].join(', ')}`).toBe(1);
      const session = (await cluster.dumpAll()).find((e) => e.key === keys.rewritten[0])!;
      masters.add(session.port);
      // No key carries the session id itself.
      expect((await cluster.dumpAll()).some((e) => e.key.includes(keys.sid))).toBe(false);
    }
    expect(masters.size).toBeGreaterThan(1);

    const dump = await cluster.dumpAll();
    expect(dump.length).toBeGreaterThan(10);
    for (const entry of dump) {
      expect(entry.key.startsWith('bff:'), entry.key).toBe(true);
      expect(entry.ttlMs, `${entry.key} has no TTL`).toBeGreaterThan(0);
    }

    // A pending login and its browser's index share a slot (one script writes both): the keys a login
    // start created and its callback removed.
    const browser = stack.browser();
    const before = await keySet();
    const start = await startLogin(browser, stack.baseUrl);
    const started = new Set(difference(await keySet(), before));
    expect((await callback(browser, await completeAtIdp(browser, start, 'alice'))).response.status).toBe(200);
    const pending = difference(started, await keySet());
    expect(pending.length, 'a pending login and its index').toBe(2);
    expect(new Set(await Promise.all(pending.map((key) => cluster.keyslot(key)))).size).toBe(1);
  });

  it('pending logins: the eviction script touches several keys of one slot; a sixth start evicts the oldest', async () => {
    const browser = stack.browser();
    const starts: URL[] = [];
    for (let i = 0; i < 6; i++) starts.push(await startLogin(browser, stack.baseUrl, `/n${i}`));

    const pending = (await cluster.dumpAll()).filter((e) => /^bff:\{[^}]+\}:logins?(:|$)/.test(e.key));
    const index = pending.filter((e) => e.key.endsWith(':logins'));
    expect(index).toHaveLength(1);
    expect(pending.filter((e) => e.key.includes(':login:'))).toHaveLength(5);
    expect(new Set(pending.map((e) => e.slot))).toEqual(new Set([index[0]!.slot]));
    for (const entry of pending) expect(entry.ttlMs).toBeGreaterThan(0);
    expect(await cluster.client.zcard(index[0]!.key)).toBe(5);

    const oldest = await completeAtIdp(browser, starts[0]!, 'alice');
    expect((await callback(browser, oldest)).response.status).toBe(400);
    const newest = await completeAtIdp(browser, starts[5]!, 'alice');
    expect((await callback(browser, newest)).response.status).toBe(200);
    expect((await browser.fetch(`${stack.baseUrl}/auth/session`)).status).toBe(200);
  });

  it('logout deletes the session key from its master; the cookie no longer signs in', async () => {
    const alice = await signIn(stack, 'alice');
    const key = stack.parts.keys.session(alice.sid);
    expect(await cluster.client.exists(key)).toBe(1);

    const res = await alice.api('/auth/logout', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ logoutUrl: expect.any(String) });
    expect(await cluster.client.exists(key)).toBe(0);

    const replay = await fetch(`${stack.baseUrl}/api/after-logout`, {
      headers: { cookie: alice.cookie, 'x-csrf': '1' },
    });
    expect(replay.status).toBe(401);
    expect(upstream.requests).toHaveLength(0);
  });
});
