/**
 * What the upstream receives through a user route (the IdP's exact access token, the mapped path and
 * query, the contract's header rules), and the proxy's refusals in the contract's order.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, type SignedIn, type Stack } from '../helpers/gateway.js';
import { useProxyStack } from '../helpers/proxy-stack.js';
import { type Upstream } from '../helpers/upstream.js';

const world = useProxyStack();
const { lastSeen, rawRequest } = world;
let stack: Stack;
let upstream: Upstream;
let alice: SignedIn;
beforeAll(() => {
  ({ stack, upstream, alice } = world);
});

describe('what the upstream receives', () => {
  it('the exact access token the IdP issued, the mapped path and query, and the contract header rules', async () => {
    const res = await rawRequest('/api/items/42?x=1&y=%20z', {
      cookie: `${alice.cookie}; theme=dark; other=1`,
      'x-csrf': '1',
      authorization: 'Bearer forged-by-the-browser',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      forwarded: 'for=6.6.6.6',
      connection: 'keep-alive, x-hop',
      'x-hop': 'drop me',
      'keep-alive': 'timeout=5',
      'x-app': 'kept',
    });
    expect(res.status).toBe(200);
    const seen = lastSeen();
    const record = await alice.record();
    expect(seen.url).toBe('/v1/items/42?x=1&y=%20z');
    expect(seen.headers.authorization).toBe(`Bearer ${record.tokens.accessToken}`);
    const introspection = await stack.idp.introspect(record.tokens.accessToken, CLIENT_ID, CLIENT_SECRET);
    expect(introspection).toMatchObject({ active: true, sub: 'alice', client_id: CLIENT_ID });
    expect(seen.headers.cookie).toBe('theme=dark; other=1');
    expect(seen.headers['x-csrf']).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(stack.baseUrl).host);
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers.forwarded).toBeUndefined();
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers['x-app']).toBe('kept');
    expect(seen.headers.host).toBe(new URL(upstream.url).host);
    // Never the ID token, never a refresh token.
    expect(JSON.stringify(seen.headers)).not.toContain(record.tokens.idToken!);
    expect(JSON.stringify(seen.headers)).not.toContain(record.tokens.refreshToken!);
  });

  it('no cookie header at all when the browser sent only gateway cookies', async () => {
    expect((await alice.api('/api/x')).status).toBe(200);
    expect(lastSeen().headers.cookie).toBeUndefined();
  });

  it('longest prefix wins, whole segments only', async () => {
    expect((await alice.api('/api/orders/7')).status).toBe(200);
    expect(lastSeen().url).toBe('/orders-service/7');
    expect((await alice.api('/api/orders')).status).toBe(200);
    expect(lastSeen().url).toBe('/orders-service');
    expect((await alice.api('/api/ordersX')).status).toBe(200);
    expect(lastSeen().url).toBe('/v1/ordersX');
  });

  it('an upstream Set-Cookie for a gateway cookie is dropped; others pass', async () => {
    const res = await alice.api('/api/set-cookie');
    expect(res.status).toBe(200);
    const set = res.headers.getSetCookie();
    expect(set).toEqual(['upstream-pref=dark; Path=/']);
  });
});

describe('refusals, in the contract order', () => {
  it('missing X-CSRF: 403 and the upstream saw nothing', async () => {
    const res = await alice.browser.fetch(`${stack.baseUrl}/api/x`);
    expect(res.status).toBe(403);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'csrf_required', message: expect.any(String) });
    expect(upstream.requests).toHaveLength(0);
  });

  it('no session on a user route: 401 unauthenticated, JSON, never a redirect', async () => {
    const res = await fetch(`${stack.baseUrl}/api/x`, { headers: { 'x-csrf': '1' }, redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthenticated', message: expect.any(String) });
    expect(upstream.requests).toHaveLength(0);
  });

  it('a forged session cookie is no session', async () => {
    const res = await fetch(`${stack.baseUrl}/api/x`, {
      headers: { 'x-csrf': '1', cookie: 'bff-session=s%3Aforged.c2lnbmF0dXJl' },
    });
    expect(res.status).toBe(401);
  });

  it('method not in the allow-list: 405 with Allow; GET allows HEAD', async () => {
    const res = await alice.api('/api/orders/1', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, HEAD');
    expect(await res.json()).toEqual({ error: 'method_not_allowed', message: expect.any(String) });
    expect((await alice.api('/api/orders/1', { method: 'HEAD' })).status).toBe(200);
    expect(upstream.requests.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('405 comes before 403 and 401', async () => {
    expect((await fetch(`${stack.baseUrl}/api/orders/1`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${stack.baseUrl}/api/orders/1`)).status).toBe(403);
  });

  it.each([
    '/api/../auth/session',
    '/api/./x',
    '/api/%2e%2e/x',
    '/api/%2E%2E/x',
    '/api/.%2e/x',
    '/api/a%2fb',
    '/api/a%2Fb',
    '/api/a%5cb',
    '/api/a%00b',
    '/api/a\\b',
  ])('traversal %s: 400 before routing', async (path) => {
    const res = await rawRequest(path, { cookie: alice.cookie, 'x-csrf': '1' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'bad_request', message: expect.any(String) });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(upstream.requests).toHaveLength(0);
  });

  it('upstream down: 502 bad_gateway', async () => {
    const res = await alice.api('/api/down/x');
    expect(res.status).toBe(502);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'bad_gateway', message: expect.any(String) });
  });

  it('upstream slower than the route timeout: 504 gateway_timeout', async () => {
    // The upstream would answer only after the test's own time limit: any answer is the route timeout's.
    const res = await alice.api('/api/slow?ms=600000');
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ error: 'gateway_timeout', message: expect.any(String) });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/slow?ms=600000']);
  });

  it('an upstream error status passes through untouched', async () => {
    const res = await alice.api('/api/status?code=418');
    expect(res.status).toBe(418);
  });
});
