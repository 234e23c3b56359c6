/**
 * `exchange` routes (RFC 8693, contract "Tokens per API"): the session's access token is exchanged at
 * the token endpoint for one for the route's audience, kept per session beside the session; a refusal
 * is 403 forbidden with the session kept, unless the session's own refresh fails too (401). Real
 * oidc-provider with its registered token-exchange grant, real Redis.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, signIn, startStack, type Stack } from '../helpers/gateway.js';
import { TOKEN_EXCHANGE } from '../helpers/idp.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const ORDERS = 'https://orders.example';
const TOKEN_ID = `exchange ${ORDERS} api:read`;

let upstream: Upstream;
let stack: Stack;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({
    idp: { resources: [ORDERS] },
    routes: [
      {
        prefix: '/api/orders',
        target: `${upstream.url}/orders`,
        token: 'user',
        exchange: { audience: ORDERS, scope: 'api:read' },
      },
      { prefix: '/api/own', target: `${upstream.url}/own`, token: 'user' },
      {
        prefix: '/api/nowhere',
        target: `${upstream.url}/nowhere`,
        token: 'user',
        exchange: { audience: 'https://nowhere.example' },
      },
    ],
  });
}, 60_000);
afterAll(async () => {
  stack?.idp.setExchangePolicy(undefined);
  await stack?.stop();
  await upstream?.stop();
});

describe('exchange routes', () => {
  it('the upstream gets an exchanged token for its audience, obtained once and reused', async () => {
    const alice = await signIn(stack);
    stack.idp.resetCounts();
    const before = await alice.record();
    for (let i = 0; i < 3; i++) expect((await alice.api(`/api/orders/ok/${i}`)).status).toBe(200);
    expect(stack.idp.counts.grants[TOKEN_EXCHANGE]).toBe(1);
    const exchanged = stack.idp.issued.find((t) => t.grantType === TOKEN_EXCHANGE);
    expect(exchanged?.requested).toBe(ORDERS);
    expect(exchanged?.accessToken).toBe([...new Set(upstream.bearerTokens('/orders/ok/'))][0]);
    const seen = new Set(upstream.bearerTokens('/orders/ok/'));
    expect(seen.size).toBe(1);
    const [token] = [...seen];
    expect(decodeJwt(token!).aud).toBe(ORDERS);
    expect(decodeJwt(token!).scope).toBe('api:read');
    expect(token).not.toBe(before.tokens.accessToken);
    const after = await alice.record();
    expect(after.tokens).toEqual(before.tokens);
  });

  it('an exchange the IdP refuses is 403 forbidden, its reason logged; the session stays', async () => {
    const bob = await signIn(stack, 'bob');
    stack.idp.setExchangePolicy(() => 'orders are closed for this user');
    stack.logs.clear();
    try {
      const res = await bob.api('/api/orders/refused');
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe('forbidden');
    } finally {
      stack.idp.setExchangePolicy(undefined);
    }
    const line = stack.logs.json().find((l) => String(l.msg).includes('refused the route'));
    expect(JSON.stringify(line)).toContain('orders are closed for this user');
    expect(await stack.redis.client.exists(stack.parts.keys.session(bob.sid))).toBe(1);
    expect(await stack.redis.client.exists(stack.parts.keys.routeToken(bob.sid, TOKEN_ID))).toBe(0);
    expect((await bob.api('/api/own/still-signed-in')).status).toBe(200);
    // And once the IdP allows it, the same session gets its token.
    expect((await bob.api('/api/orders/allowed')).status).toBe(200);
  });

  it('an exchange for an audience the IdP does not know (invalid_target) is 403; nothing reaches the upstream', async () => {
    const dave = await signIn(stack, 'dave');
    const before = await dave.record();
    stack.idp.resetCounts();
    const res = await dave.api('/api/nowhere/x');
    expect(res.status).toBe(403);
    expect(stack.idp.counts.grantErrors[TOKEN_EXCHANGE]).toBe(1);
    expect(stack.idp.counts.grants.refresh_token ?? 0).toBe(0);
    expect(upstream.requests.some((r) => r.url.startsWith('/nowhere'))).toBe(false);
    expect((await dave.record()).tokens).toEqual(before.tokens);
  });

  it('invalid_grant from the exchange and from the session refresh: 401 session_expired, session ended', async () => {
    const carol = await signIn(stack, 'carol');
    const { refreshToken } = (await carol.record()).tokens;
    // Revoking the refresh token revokes the whole grant at the IdP: the (opaque) access token dies too.
    const revoked = await fetch(`${stack.idp.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: refreshToken!, token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    stack.idp.resetCounts();
    const res = await carol.api('/api/orders/gone');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('session_expired');
    expect(stack.idp.counts.grantErrors[TOKEN_EXCHANGE]).toBe(1);
    expect(stack.idp.counts.grantErrors.refresh_token).toBe(1);
    expect(await stack.redis.client.exists(stack.parts.keys.session(carol.sid))).toBe(0);
  });
});
