/**
 * The gateway on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES): login, the proxy, the refresh
 * storm and logout work, and the key layout is Cluster-ready (TTLs, hash tags, spread over masters).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp, startLogin } from '../helpers/login.js';
import { startRedisCluster, type RedisClusterServer } from '../helpers/redis-cluster.js';
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

describe('the gateway on a Redis Cluster', () => {
  it('is configured for the cluster, not a single Redis', async () => {
    expect(stack.env.REDIS_URL).toBeUndefined();
    expect(stack.gateway.config.redis.mode).toBe('cluster');
    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { store: 'ok' } });
  });

  it('login, /auth/session and a proxied call carrying the access token', async () => {
    const alice = await signIn(stack, 'alice');
    expect(await cluster.client.exists(stack.gateway.keys.session(alice.sid))).toBe(1);

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

    // The lock was released; the grace entry of the spent refresh token lives next to the session.
    const { keys } = stack.gateway;
    expect(await cluster.client.exists(keys.refreshLock(alice.sid))).toBe(0);
    const grace = keys.refreshGrace(alice.sid, spent);
    expect(await cluster.client.pttl(grace)).toBeGreaterThan(0);
    const slot = await cluster.keyslot(keys.session(alice.sid));
    expect(await cluster.keyslot(keys.refreshLock(alice.sid))).toBe(slot);
    expect(await cluster.keyslot(grace)).toBe(slot);
  });

  it('key layout: every key has a TTL, a session shares its slot with its lock and grace keys, sessions spread over the masters', async () => {
    // Ten logins in parallel: the chance that all ten sessions land on one of three masters is 3/3^10.
    const users = await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(stack, `user${i}`)));
    const { keys } = stack.gateway;

    const dump = await cluster.dumpAll();
    expect(dump.length).toBeGreaterThan(10);
    for (const entry of dump) {
      expect(entry.key.startsWith('bff:'), entry.key).toBe(true);
      expect(entry.ttlMs, `${entry.key} has no TTL`).toBeGreaterThan(0);
    }

    const holders = new Set<number>();
    for (const user of users) {
      const sessionKey = keys.session(user.sid);
      const entry = dump.find((e) => e.key === sessionKey);
      expect(entry, `session key of ${user.sid.slice(0, 4)}…`).toBeDefined();
      holders.add(entry!.port);
      const slot = await cluster.keyslot(sessionKey);
      expect(entry!.slot).toBe(slot);
      expect(await cluster.keyslot(keys.refreshLock(user.sid))).toBe(slot);
      expect(await cluster.keyslot(keys.refreshGrace(user.sid, 'any-refresh-token'))).toBe(slot);
      // No key carries the session id itself.
      expect(dump.some((e) => e.key.includes(user.sid))).toBe(false);
    }
    expect(holders.size).toBeGreaterThan(1);

    // A pending login and its browser's index share a slot too (they are written by one script).
    expect(await cluster.keyslot(keys.pendingLogin('browser-1', 'state-1'))).toBe(
      await cluster.keyslot(keys.pendingLoginIndex('browser-1')),
    );
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
    const key = stack.gateway.keys.session(alice.sid);
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
