/**
 * An `audience` route on a real 3-master Redis Cluster: the session and its route token are read with
 * one MGET, which Cluster allows only within one hash slot (CROSSSLOT otherwise), so the route token's
 * key must carry the session's hash tag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { startRedisCluster, type RedisClusterServer } from '../helpers/redis-cluster.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const ORDERS = 'https://orders.example';

let upstream: Upstream;
let cluster: RedisClusterServer;
let stack: Stack<undefined>;

beforeAll(async () => {
  upstream = await startUpstream();
  cluster = await startRedisCluster();
  stack = await startStack({
    idp: { resources: [ORDERS] },
    routes: [{ prefix: '/api/orders', target: upstream.url, token: 'user', audience: ORDERS }],
    redisEnv: { REDIS_CLUSTER_NODES: cluster.nodesEnv },
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await cluster?.stop();
  await upstream?.stop();
});

describe('audience route on Redis Cluster', () => {
  it('obtains the route token once, then serves from the session slot', async () => {
    const alice = await signIn(stack);
    stack.idp.resetCounts();
    for (let i = 0; i < 3; i++) expect((await alice.api(`/api/orders/${i}`)).status).toBe(200);
    expect(stack.idp.grantCount('refresh_token', ORDERS)).toBe(1);
    const tokens = new Set(upstream.bearerTokens());
    expect(tokens.size).toBe(1);
    // The route token lives beside the session, on the master that holds the session's slot.
    const keys = await cluster.dumpAll();
    const session = keys.find((e) => e.key === stack.parts.keys.session(alice.sid));
    const routeToken = keys.find(
      (e) => e.key === stack.parts.keys.routeToken(alice.sid, `audience ${ORDERS} `),
    );
    expect(session).toBeDefined();
    expect(routeToken?.port).toBe(session!.port);
  });
});
