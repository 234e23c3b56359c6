/**
 * The route token types: client (one client-credentials token for many calls, no session), none (no
 * token, csrf off) and optional (the user's token only with a session).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, type SignedIn, type Stack } from '../helpers/gateway.js';
import { useProxyStack } from '../helpers/proxy-stack.js';
import { type Upstream } from '../helpers/upstream.js';

const world = useProxyStack();
const { lastSeen } = world;
let stack: Stack;
let upstream: Upstream;
let alice: SignedIn;
beforeAll(() => {
  ({ stack, upstream, alice } = world);
});

describe('token types', () => {
  it('client: a client-credentials token, one IdP request for many calls, no session needed', async () => {
    stack.idp.resetCounts();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${stack.baseUrl}/service/a`, { headers: { 'x-csrf': '1' } })),
    );
    for (const r of results) expect(r.status).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await fetch(`${stack.baseUrl}/service/b`, { headers: { 'x-csrf': '1' } })).status).toBe(200);
    expect(stack.idp.counts.grants.client_credentials).toBe(1);
    const tokens = new Set(upstream.requests.map((r) => r.headers.authorization));
    expect(tokens.size).toBe(1);
    const token = [...tokens][0]!.replace(/^Bearer /, '');
    expect(await stack.idp.introspect(token, CLIENT_ID, CLIENT_SECRET)).toMatchObject({
      active: true,
      client_id: CLIENT_ID,
      scope: 'api:read',
    });
  });

  it('client: the user session does not leak into it', async () => {
    expect((await alice.api('/service/x')).status).toBe(200);
    const record = await alice.record();
    expect(lastSeen().headers.authorization).not.toBe(`Bearer ${record.tokens.accessToken}`);
  });

  it('none: no token, no session needed, csrf off on this route', async () => {
    expect((await fetch(`${stack.baseUrl}/public/x`)).status).toBe(200);
    expect(lastSeen().headers.authorization).toBeUndefined();
    const res = await alice.browser.fetch(`${stack.baseUrl}/public/x`, {
      headers: { authorization: 'Bearer from-browser' },
    });
    expect(res.status).toBe(200);
    expect(lastSeen().headers.authorization).toBeUndefined();
  });

  it('optional: the user token with a session, nothing without', async () => {
    expect((await fetch(`${stack.baseUrl}/maybe/x`, { headers: { 'x-csrf': '1' } })).status).toBe(200);
    expect(lastSeen().headers.authorization).toBeUndefined();
    expect((await alice.api('/maybe/x')).status).toBe(200);
    expect(lastSeen().headers.authorization).toBe(`Bearer ${(await alice.record()).tokens.accessToken}`);
  });
});
