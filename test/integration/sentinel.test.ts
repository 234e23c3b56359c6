/**
 * The gateway on a real Redis Sentinel setup (REDIS_SENTINELS + REDIS_SENTINEL_NAME): login, the
 * proxy, the refresh storm and logout work, and a failover of the master never costs a session and
 * never answers 500: while the sentinels promote the replica the gateway answers 503, then serves
 * the replicated sessions from the new master.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/redis-cluster.js';
import { startRedisSentinel, type RedisSentinelSetup } from '../helpers/redis-sentinel.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let sentinel: RedisSentinelSetup;
let stack: Stack<undefined>;

beforeAll(async () => {
  upstream = await startUpstream();
  sentinel = await startRedisSentinel();
  stack = await startStack({
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
    redisEnv: { REDIS_SENTINELS: sentinel.sentinelsEnv, REDIS_SENTINEL_NAME: sentinel.name },
  });
});
afterAll(async () => {
  await stack?.stop();
  await sentinel?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  upstream.reset();
  stack.idp.resetCounts();
});

/** Whether the session key is on the current master. */
async function stored(user: SignedIn): Promise<boolean> {
  return (await (await sentinel.master()).client.exists(stack.parts.keys.session(user.sid))) === 1;
}

describe('the gateway on Redis Sentinel', () => {
  it('is configured for the sentinels, not a single Redis', async () => {
    expect(stack.env.REDIS_URL).toBeUndefined();
    expect(stack.config.redis.mode).toBe('sentinel');
    expect((await fetch(`${stack.baseUrl}/readyz`)).status).toBe(200);
  });

  it('login, /auth/session and a proxied call carrying the access token', async () => {
    const alice = await signIn(stack, 'alice');
    expect(await stored(alice)).toBe(true);

    const session = await alice.api('/auth/session');
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ authenticated: true, user: { sub: 'alice' } });

    const res = await alice.api('/api/items/1');
    expect(res.status).toBe(200);
    expect(upstream.bearerTokens()).toEqual([(await alice.record()).tokens.accessToken]);
  });

  it('the refresh storm: 50 parallel requests after expiry, all 200, exactly one refresh_token grant', async () => {
    const alice = await signIn(stack, 'alice');
    await alice.expireAccessToken();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => alice.api(`/api/storm/${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
    expect(stack.idp.counts.grantErrors.refresh_token ?? 0).toBe(0);
    expect(new Set(upstream.bearerTokens())).toEqual(new Set([(await alice.record()).tokens.accessToken]));
  });

  it('logout deletes the session key on the master', async () => {
    const alice = await signIn(stack, 'alice');
    expect(await stored(alice)).toBe(true);
    const res = await alice.api('/auth/logout', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await stored(alice)).toBe(false);
    expect((await alice.api('/auth/session')).status).toBe(401);
  });
});

/**
 * Sends requests with the session, one after another, until `stop()`; records every status and
 * every body that was not a 200.
 */
function keepRequesting(user: SignedIn) {
  const statuses: number[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const res = await (i % 2 === 0 ? user.api(`/api/during/${i}`) : user.api('/auth/session'));
      statuses.push(res.status);
      const body = await res.text();
      if (res.status !== 200) failures.push(`${res.status} ${body}`);
      // A short breath so a fast stream of 503s does not starve the event loop.
      if (res.status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    statuses,
    failures,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Waits (bounded) until the gateway serves the session again, then checks it keeps doing so. */
async function servedAgain(user: SignedIn): Promise<void> {
  await waitUntil(
    'the gateway to serve the session from the new master',
    async () => (await user.api('/api/after')).status === 200,
    15_000,
    100,
  );
  for (let i = 0; i < 5; i++) expect((await user.api(`/api/after/${i}`)).status).toBe(200);
  const session = await user.api('/auth/session');
  expect(session.status).toBe(200);
  expect(await session.json()).toMatchObject({ authenticated: true });
}

/**
 * Signs in, makes sure the session reached the replica, then takes the master away (`how`) while
 * requests keep coming. Every answer must be 200 or 503 session_store_unavailable (never a 500, never
 * a 401 for this session), and once the sentinels promoted the replica the session is served again,
 * unchanged.
 */
async function failoverUnderLoad(
  setup: RedisSentinelSetup,
  gateway: Stack<undefined>,
  how: 'kill' | 'hang',
): Promise<void> {
  const alice = await signIn(gateway, 'alice');
  expect((await alice.api('/api/before')).status).toBe(200);
  const before = await alice.record();
  await setup.waitForReplication();

  const load = keepRequesting(alice);
  let oldPort: number;
  try {
    // Let the load run against the healthy master for a moment.
    await waitUntil('the first requests under load', async () => load.statuses.length >= 3);
    oldPort = how === 'kill' ? await setup.killMaster() : await setup.stopMaster();
    await setup.waitForNewMaster(oldPort);
    await waitUntil('a 200 after the promotion', async () => load.statuses.at(-1) === 200, 15_000);
  } finally {
    await load.stop();
  }
  expect(load.statuses.length).toBeGreaterThan(3);
  for (const status of load.statuses) expect([200, 503], load.failures.join('\n')).toContain(status);
  for (const failure of load.failures) expect(failure).toMatch(/"error":"session_store_unavailable"/);
  expect(await setup.masterPort()).not.toBe(oldPort);

  await servedAgain(alice);
  const after = await alice.record();
  expect(after.sub).toBe('alice');
  expect(after.tokens).toEqual(before.tokens);
  expect(after.absoluteExpiresAt).toBe(before.absoluteExpiresAt);
}

describe('failover', () => {
  it('master hung (SIGSTOP): only 200 or 503 while the replica is promoted, then the session is served from the new master', async () => {
    // Its own setup: the hung master stays behind (the sentinels would only turn it into a replica
    // some 20 s after it wakes up), so the next test could not fail over again.
    const own = await startRedisSentinel();
    const ownStack = await startStack({
      sharedIdp: stack.idp,
      routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
      redisEnv: { REDIS_SENTINELS: own.sentinelsEnv, REDIS_SENTINEL_NAME: own.name },
    });
    try {
      await failoverUnderLoad(own, ownStack, 'hang');
    } finally {
      await ownStack.stop();
      await own.stop();
    }
  });

  // Last in this file: it leaves the shared setup without a replica.
  it('master killed mid-run: only 200 or 503 while the replica is promoted, then the replicated session is served and a new login works', async () => {
    await failoverUnderLoad(sentinel, stack, 'kill');
    // A new login after the failover: written to the new master.
    const bob = await signIn(stack, 'bob');
    expect((await bob.api('/api/bob')).status).toBe(200);
    expect(await stored(bob)).toBe(true);
  });
});
