/**
 * The SPA client against a real local HTTP server (Node's own fetch): the headers it adds, the bounded
 * retry of the contract's retryable 503s (and nothing else), 401 handling, getSession and logout.
 * Navigation and the backoff's sleep are the two browser effects the test records instead.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BffError, createBffClient, type BffClientOptions } from '../../client/bff-client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** Answers in order; the last one repeats. */
let answers: Answer[] = [];
let navigations: string[] = [];
let waits: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
  answers = [{ status: 200, body: { ok: true } }];
  navigations = [];
  waits = [];
});

function client(options: BffClientOptions = {}) {
  return createBffClient({
    baseUrl: base,
    navigate: (url) => navigations.push(url),
    currentPath: () => '/orders?page=2#top',
    sleep: async (ms) => void waits.push(ms),
    random: () => 1,
    retry: { retries: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    ...options,
  });
}

const storeDown = {
  status: 503,
  body: { error: 'session_store_unavailable', message: 'the store does not answer' },
};
const idpDown = { status: 503, body: { error: 'idp_unavailable', message: 'the IdP does not answer' } };

describe('api()', () => {
  it("adds X-CSRF: 1 to the caller's headers and resolves with a 2xx Response", async () => {
    const res = await client().api('/api/orders?x=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace': 't1' },
      body: '{"item":"scone"}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/orders?x=1', body: '{"item":"scone"}' });
    expect(seen[0]!.headers).toMatchObject({
      'x-csrf': '1',
      'x-trace': 't1',
      'content-type': 'application/json',
    });
    expect(navigations).toEqual([]);
  });

  it('retries 503 session_store_unavailable / idp_unavailable with growing waits, re-sending the body', async () => {
    answers = [storeDown, idpDown, { status: 201, body: { id: 7 } }];
    const res = await client().api('/api/orders', { method: 'POST', body: 'order' });
    expect(res.status).toBe(201);
    expect(seen.map((s) => [s.method, s.body])).toEqual([
      ['POST', 'order'],
      ['POST', 'order'],
      ['POST', 'order'],
    ]);
    expect(waits).toEqual([100, 200]);
  });

  it('gives up after the bound: 1 + retries requests, then BffError 503 with the code', async () => {
    answers = [idpDown];
    const err = await client()
      .api('/api/orders')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BffError);
    expect(err).toMatchObject({ status: 503, code: 'idp_unavailable', message: 'the IdP does not answer' });
    expect(seen).toHaveLength(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('waits as long as Retry-After says, and stops when it asks for more than maxDelayMs', async () => {
    answers = [
      { ...storeDown, headers: { 'retry-after': '1' } },
      { status: 200, body: {} },
    ];
    expect((await client().api('/api/a')).status).toBe(200);
    expect(waits).toEqual([1_000]);

    seen.length = 0;
    waits = [];
    answers = [
      { ...storeDown, headers: { 'retry-after': '2' } },
      { status: 200, body: {} },
    ];
    await expect(client().api('/api/a')).rejects.toMatchObject({
      status: 503,
      code: 'session_store_unavailable',
    });
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("never retries another 503 (an upstream's), a stream body, or with retry: false", async () => {
    answers = [{ status: 503, body: { error: 'maintenance' } }, { status: 200 }];
    await expect(client().api('/api/a')).rejects.toMatchObject({ status: 503, code: 'maintenance' });
    expect(seen).toHaveLength(1);

    seen.length = 0;
    answers = [storeDown, { status: 200 }];
    const stream = new Blob(['streamed']).stream();
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit;
    await expect(client().api('/api/a', init)).rejects.toMatchObject({ code: 'session_store_unavailable' });
    expect(seen.map((s) => s.body)).toEqual(['streamed']);

    seen.length = 0;
    answers = [storeDown, { status: 200 }];
    await expect(client({ retry: false }).api('/api/a')).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('an abort during the backoff ends the call with the AbortError, without another request', async () => {
    answers = [storeDown];
    const controller = new AbortController();
    const real = createBffClient({ baseUrl: base, retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const call = real.api('/api/a', { signal: controller.signal });
    await expect.poll(() => seen.length).toBe(1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(1);
  });

  it('401: navigates to sign in with the current path as returnTo, and rejects', async () => {
    answers = [{ status: 401, body: { error: 'session_expired', message: 'sign in again' } }];
    await expect(client().api('/api/a')).rejects.toMatchObject({ status: 401, code: 'session_expired' });
    expect(navigations).toEqual([`${base}/auth/login?returnTo=${encodeURIComponent('/orders?page=2#top')}`]);
  });

  it('401 with onUnauthenticated: the callback gets the error instead of a navigation', async () => {
    answers = [{ status: 401, body: { error: 'unauthenticated', message: 'no session' } }];
    const calls: BffError[] = [];
    const err = await client({ onUnauthenticated: (e) => calls.push(e) })
      .api('/api/a')
      .catch((e: unknown) => e);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBe(err);
    expect(err).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(navigations).toEqual([]);
  });

  it("401 step_up_required signs in at the gateway's loginUrl; a loginUrl elsewhere is ignored", async () => {
    const loginUrl = '/auth/login?acr_values=urn%3Aexample%3Amfa&max_age=900';
    answers = [{ status: 401, body: { error: 'step_up_required', message: 'm', loginUrl } }];
    await expect(client().api('/api/a')).rejects.toMatchObject({ code: 'step_up_required', loginUrl });
    answers = [
      { status: 401, body: { error: 'step_up_required', loginUrl: 'https://evil.example/auth/login' } },
    ];
    await expect(client().api('/api/a')).rejects.toMatchObject({ code: 'step_up_required' });
    const returnTo = encodeURIComponent('/orders?page=2#top');
    expect(navigations).toEqual([
      `${base}${loginUrl}&returnTo=${returnTo}`,
      `${base}/auth/login?returnTo=${returnTo}`,
    ]);
  });

  it('refuses a URL that is not a path on the gateway, before any request', async () => {
    for (const path of ['https://api.example.com/x', '//evil.example/x', '/\\evil.example', 'api/x'])
      await expect(client().api(path)).rejects.toThrow(TypeError);
    expect(seen).toEqual([]);
  });

  it('no answer at all: BffError network_error, status 0, with the cause', async () => {
    const closed = await new Promise<string>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(`http://127.0.0.1:${port}`));
      });
    });
    const err = await client({ baseUrl: closed })
      .api('/api/a')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BffError', status: 0, code: 'network_error' });
    expect((err as Error).cause).toBeInstanceOf(TypeError);
  });
});

describe('getSession(), login(), logout()', () => {
  it('getSession: the typed session, or null when signed out', async () => {
    const session = { authenticated: true, user: { sub: 'alice', name: 'Alice' }, expiresAt: 1_900_000_000 };
    answers = [{ status: 200, body: session }];
    expect(await client().getSession()).toEqual(session);
    answers = [{ status: 401, body: { error: 'unauthenticated', message: 'no session' } }];
    expect(await client().getSession()).toBeNull();
    expect(seen.map((s) => [s.method, s.url])).toEqual([
      ['GET', '/auth/session'],
      ['GET', '/auth/session'],
    ]);
    expect(navigations).toEqual([]); // signed out is a state, not a reason to navigate
  });

  it('getSession retries a store outage, then throws its error', async () => {
    answers = [storeDown, storeDown, storeDown, storeDown, { status: 200 }];
    await expect(client().getSession()).rejects.toMatchObject({
      status: 503,
      code: 'session_store_unavailable',
    });
    expect(seen).toHaveLength(4);
  });

  it('login: /auth/login with returnTo, the current path by default, never a foreign one', () => {
    const c = client();
    c.login('/reports?y=2026');
    c.login();
    c.login('//evil.example/');
    expect(navigations).toEqual([
      `${base}/auth/login?returnTo=%2Freports%3Fy%3D2026`,
      `${base}/auth/login?returnTo=${encodeURIComponent('/orders?page=2#top')}`,
      `${base}/auth/login?returnTo=${encodeURIComponent('/orders?page=2#top')}`,
    ]);
  });

  it('logout: POST /auth/logout with X-CSRF, then to the logoutUrl (the gateway root for "/")', async () => {
    const logoutUrl = 'http://127.0.0.1:1/session/end?id_token_hint=x&state=s';
    answers = [{ status: 200, body: { logoutUrl } }];
    expect(await client().logout()).toBe(logoutUrl);
    answers = [{ status: 200, body: { logoutUrl: '/' } }];
    expect(await client().logout()).toBe('/');
    expect(seen.map((s) => [s.method, s.url, s.headers['x-csrf']])).toEqual([
      ['POST', '/auth/logout', '1'],
      ['POST', '/auth/logout', '1'],
    ]);
    expect(navigations).toEqual([logoutUrl, `${base}/`]);
  });

  it('logout follows only an http(s) URL or a path: never a script URL', async () => {
    answers = [{ status: 200, body: { logoutUrl: 'javascript:alert(1)' } }];
    expect(await client().logout()).toBe('/');
    expect(navigations).toEqual([`${base}/`]);
  });

  it('logout refused: BffError, and no navigation', async () => {
    answers = [{ status: 403, body: { error: 'csrf_required', message: 'm' } }];
    await expect(client().logout()).rejects.toMatchObject({ status: 403, code: 'csrf_required' });
    expect(navigations).toEqual([]);
  });
});
