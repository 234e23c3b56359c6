import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  signIn,
  startStack,
  type SignedIn,
  type Stack,
} from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { downloadBytes, startUpstream, type SeenRequest, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let stack: Stack;
let alice: SignedIn;
let deadPort: number;

beforeAll(async () => {
  upstream = await startUpstream();
  deadPort = await freePort();
  stack = await startStack({
    routes: [
      { prefix: '/api', target: `${upstream.url}/v1`, token: 'user' },
      {
        prefix: '/api/orders',
        target: `${upstream.url}/orders-service`,
        token: 'user',
        methods: ['GET', 'POST'],
      },
      { prefix: '/api/slow', target: `${upstream.url}/slow`, token: 'user', timeout: '1s' },
      { prefix: '/api/down', target: `http://127.0.0.1:${deadPort}`, token: 'user' },
      { prefix: '/service', target: upstream.url, token: 'client', scopes: ['api:read'] },
      { prefix: '/public', target: upstream.url, token: 'none', csrf: false },
      { prefix: '/maybe', target: upstream.url, token: 'optional' },
      { prefix: '/live', target: upstream.url, token: 'user', timeout: '1s' },
    ],
  });
  alice = await signIn(stack, 'alice');
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

function lastSeen(): SeenRequest {
  const seen = upstream.requests.at(-1);
  if (!seen) throw new Error('the upstream saw nothing');
  return seen;
}

/** A raw HTTP request (fetch would normalise `..` and refuse some headers). */
function rawRequest(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: new URL(stack.baseUrl).port, path, method, headers },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

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

describe('streaming', () => {
  it('a 1 MiB upload arrives byte-identical', async () => {
    const body = randomBytes(1024 * 1024);
    const res = await alice.api('/api/upload', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    const seen = lastSeen();
    expect(seen.bodyLength).toBe(body.length);
    expect(seen.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('a chunked upload (no content-length) arrives byte-identical', async () => {
    const parts = [randomBytes(300_000), randomBytes(300_000), randomBytes(100)];
    const stream = new ReadableStream({
      start(controller) {
        for (const p of parts) controller.enqueue(p);
        controller.close();
      },
    });
    const res = await alice.api('/api/upload', {
      method: 'PUT',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(lastSeen().bodySha256).toBe(createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  });

  it('a 5 MB download arrives complete', async () => {
    const res = await alice.api('/api/download?bytes=5000000');
    expect(res.status).toBe(200);
    const got = Buffer.from(await res.arrayBuffer());
    expect(got.length).toBe(5_000_000);
    expect(createHash('sha256').update(got).digest('hex')).toBe(
      createHash('sha256').update(downloadBytes(5_000_000)).digest('hex'),
    );
  });

  it('server-sent events: the first event arrives before the upstream has finished', async () => {
    const res = await alice.api('/api/sse');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('content-encoding')).toBeNull();
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('data: first\n\n');
    // Only now may the upstream finish.
    upstream.releaseSse();
    let rest = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += Buffer.from(chunk.value).toString();
    }
    expect(rest).toBe('data: last\n\n');
  });

  it('a live stream is not cut by the route timeout', async () => {
    // /live has a 1 s timeout; an SSE answer that started in time may outlive it.
    const res = await alice.api('/live/sse');
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('data: first\n\n');
    // A request on the same route started after the stream: its 504 proves the stream's own timeout
    // has run out too (no clock in the test), and only then does the upstream send its last event.
    const later = await alice.api('/live/slow?ms=600000');
    expect(later.status).toBe(504);
    upstream.releaseSse();
    let rest = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += Buffer.from(chunk.value).toString();
    }
    expect(rest).toBe('data: last\n\n');
  });
});

describe('the hot path budget', () => {
  it('a steady-state signed-in request costs at most one Redis command and no write', async () => {
    const stats = async () => {
      const info = await stack.redis.client.info('commandstats');
      const calls: Record<string, number> = {};
      for (const m of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) calls[m[1]!] = Number(m[2]);
      return calls;
    };
    await alice.api('/api/warm');
    const before = await stats();
    for (let i = 0; i < 100; i++) expect((await alice.api(`/api/n/${i}`)).status).toBe(200);
    const after = await stats();
    const delta: Record<string, number> = {};
    for (const [cmd, n] of Object.entries(after)) {
      if (cmd === 'info') continue;
      const d = n - (before[cmd] ?? 0);
      if (d > 0) delta[cmd] = d;
    }
    expect(delta).toEqual({ get: 100 });
  });
});

describe('connections and sessions on the hot path', () => {
  it('upstream connections are kept alive and reused', async () => {
    for (let i = 0; i < 5; i++) expect((await alice.api(`/api/k/${i}`)).status).toBe(200);
    expect(new Set(upstream.requests.map((r) => r.remotePort)).size).toBe(1);
  });
});

describe('store outage on the proxy path', () => {
  it('Redis unresponsive: 503 session_store_unavailable (a command timeout, not a hang); the process stays up; then served again', async () => {
    stack.redis.pause();
    try {
      // Redis never answers while paused: any answer at all comes from the gateway's command timeout.
      const res = await alice.api('/api/x');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'session_store_unavailable', message: expect.any(String) });
      expect(upstream.requests).toHaveLength(0);
      expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      stack.redis.resume();
    }
    await expect.poll(async () => (await alice.api('/api/x')).status, { timeout: 10_000 }).toBe(200);
  });
});
