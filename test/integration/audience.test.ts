/**
 * `audience` routes (RFC 8707, contract "Tokens per API"): the route's token is obtained with the
 * session's refresh token and `resource=<audience>`, kept per session and audience beside the session,
 * and the session's own token is untouched. Real oidc-provider with two resources, real Redis, two
 * gateway instances for the storm.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, waitForStatus, type GatewayProcess } from '../helpers/process.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { sealRouteToken, type RouteToken } from '../../src/session/records/route-token.js';

const ORDERS = 'https://orders.example';
const BILLING = 'https://billing.example';

let upstream: Upstream;
let a: Stack;
let b: GatewayProcess;
let bUrl: string;
let alice: SignedIn;

beforeAll(async () => {
  upstream = await startUpstream();
  a = await startStack({
    idp: { resources: [ORDERS, BILLING] },
    routes: [
      { prefix: '/api/orders', target: `${upstream.url}/orders`, token: 'user', audience: ORDERS },
      { prefix: '/api/billing', target: `${upstream.url}/billing`, token: 'user', audience: BILLING },
      { prefix: '/api/own', target: `${upstream.url}/own`, token: 'user' },
    ],
  });
  alice = await signIn(a);
  const port = await freePort();
  bUrl = `http://127.0.0.1:${port}`;
  b = spawnGateway({ ...a.env, PORT: String(port), LOG_LEVEL: 'warn' });
  await waitForStatus(`${bUrl}/readyz`, 200);
}, 60_000);
afterAll(async () => {
  b?.child.kill('SIGTERM');
  await b?.exited;
  await a?.stop();
  await upstream?.stop();
});

describe('audience routes', () => {
  it('the sign-in asked for every route audience as a resource (RFC 8707 §2.1)', () => {
    // signIn ran before anything reset the counts: its authorization request is the last one.
    const auth = a.idp.lastAuthorizationRequests.at(-1)!;
    expect(new Set(auth.getAll('resource'))).toEqual(new Set([ORDERS, BILLING]));
  });

  it('each route gets a token for its own audience; the session token stays as it was', async () => {
    const before = await alice.record();
    expect((await alice.api('/api/orders/1')).status).toBe(200);
    expect((await alice.api('/api/billing/1')).status).toBe(200);
    expect((await alice.api('/api/own/1')).status).toBe(200);
    const [orders] = upstream.bearerTokens('/orders/1');
    const [billing] = upstream.bearerTokens('/billing/1');
    const [own] = upstream.bearerTokens('/own/1');
    expect(decodeJwt(orders!).aud).toBe(ORDERS);
    expect(decodeJwt(billing!).aud).toBe(BILLING);
    expect(orders).not.toBe(billing);
    const after = await alice.record();
    expect(own).toBe(after.tokens.accessToken);
    expect(after.tokens.accessToken).toBe(before.tokens.accessToken);
    expect(after.accessTokenExpiresAt).toBe(before.accessTokenExpiresAt);
    // Stored beside the session, sealed (the token is not in the stored bytes), expiring.
    const key = a.parts.keys.routeToken(alice.sid, `audience ${ORDERS} `);
    const stored = await a.redis.client.getBuffer(key);
    expect(stored).not.toBeNull();
    expect(stored!.includes(Buffer.from(orders!.split('.')[2]!))).toBe(false);
    expect(await a.redis.client.pttl(key)).toBeGreaterThan(0);
  });

  it('keeps the refresh token an audience grant rotated: the session refreshes afterwards', async () => {
    await a.redis.client.del(a.parts.keys.routeToken(alice.sid, `audience ${ORDERS} `));
    const before = await alice.record();
    a.idp.resetCounts();
    expect((await alice.api('/api/orders/rotate')).status).toBe(200);
    expect(a.idp.grantCount('refresh_token', ORDERS)).toBe(1);
    const after = await alice.record();
    expect(after.tokens.refreshToken).not.toBe(before.tokens.refreshToken);
    // The session's own refresh spends the rotated token: accepted (a spent one would revoke the grant).
    await alice.expireAccessToken();
    expect((await alice.api('/api/own/after-rotation')).status).toBe(200);
    expect(a.idp.counts.grantErrors.refresh_token ?? 0).toBe(0);
    expect((await alice.record()).tokens.accessToken).not.toBe(after.tokens.accessToken);
  });

  it('a steady-state request on an audience route costs one store command (MGET) and no write', async () => {
    const stats = async () => {
      const info = await a.redis.client.info('commandstats');
      const calls: Record<string, number> = {};
      for (const m of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) calls[m[1]!] = Number(m[2]);
      return calls;
    };
    expect((await alice.api('/api/orders/warm')).status).toBe(200);
    const before = await stats();
    for (let i = 0; i < 50; i++) expect((await alice.api(`/api/orders/n/${i}`)).status).toBe(200);
    const after = await stats();
    const delta: Record<string, number> = {};
    for (const [cmd, n] of Object.entries(after)) {
      if (cmd === 'info') continue;
      const d = n - (before[cmd] ?? 0);
      if (d > 0) delta[cmd] = d;
    }
    expect(delta).toEqual({ mget: 50 });
  });

  it('a storm at expiry across two instances: one grant at the IdP, every request served with it', async () => {
    const tokenId = `audience ${BILLING} `;
    const key = a.parts.keys.routeToken(alice.sid, tokenId);
    // The stored token at its expiry: what every request of the storm reads first.
    const expired: RouteToken = {
      accessToken: 'expired-billing-token',
      tokenType: 'Bearer',
      accessTokenIssuedAt: Date.now() - 61_000,
      accessTokenExpiresAt: Date.now() - 1_000,
    };
    await a.redis.client.set(key, sealRouteToken(a.parts.vault, alice.sid, tokenId, expired), 'PX', 60_000);
    a.idp.resetCounts();
    const requests: Array<Promise<Response>> = [];
    for (let i = 0; i < 15; i++) {
      requests.push(alice.api(`/api/billing/storm/a${i}`));
      requests.push(
        fetch(`${bUrl}/api/billing/storm/b${i}`, { headers: { cookie: alice.cookie, 'x-csrf': '1' } }),
      );
    }
    const statuses = (await Promise.all(requests)).map((r) => r.status);
    expect(statuses).toEqual(statuses.map(() => 200));
    expect(a.idp.grantCount('refresh_token', BILLING)).toBe(1);
    expect(a.idp.counts.grants.refresh_token).toBe(1);
    expect(a.idp.counts.grantErrors.refresh_token ?? 0).toBe(0);
    const seen = new Set(upstream.bearerTokens('/billing/storm/'));
    expect(seen.size).toBe(1);
    expect(seen.has(expired.accessToken)).toBe(false);
    expect(decodeJwt([...seen][0]!).aud).toBe(BILLING);
  });

  it("logout removes the session's route tokens with it", async () => {
    const bob = await signIn(a, 'bob');
    expect((await bob.api('/api/orders/bob')).status).toBe(200);
    expect((await bob.api('/api/billing/bob')).status).toBe(200);
    const keys = [ORDERS, BILLING].map((aud) => a.parts.keys.routeToken(bob.sid, `audience ${aud} `));
    expect(await a.redis.client.exists(...keys)).toBe(2);
    expect((await bob.api('/auth/logout', { method: 'POST' })).status).toBe(200);
    expect(await a.redis.client.exists(a.parts.keys.session(bob.sid), ...keys)).toBe(0);
  });
});
