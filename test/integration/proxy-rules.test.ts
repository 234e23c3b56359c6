/**
 * The contract's Proxying rules, one by one and in both directions, with raw requests (fetch would
 * normalise paths and headers before the gateway saw them) and a real upstream that logs what it got.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { RawConnection, type RawResponse } from '../helpers/raw-http.js';
import {
  respondWith,
  startRecordingUpstream,
  type LoggedRequest,
  type RecordingUpstream,
} from '../helpers/recording-upstream.js';

let up: RecordingUpstream;
let stack: Stack;
let alice: SignedIn;
let aliceToken: string;

beforeAll(async () => {
  up = await startRecordingUpstream();
  const deadPort = await freePort();
  stack = await startStack({
    routes: [
      { prefix: '/api', target: `${up.url}/v1`, token: 'user' },
      { prefix: '/api/admin', target: `${up.url}/admin-svc`, token: 'user', methods: ['GET'] },
      { prefix: '/api/quick', target: `${up.url}/v1`, token: 'user', timeout: '1s' },
      { prefix: '/api/down', target: `http://127.0.0.1:${deadPort}`, token: 'user' },
      { prefix: '/public', target: `${up.url}/pub`, token: 'none', csrf: false },
      { prefix: '/maybe', target: `${up.url}/opt`, token: 'optional' },
      { prefix: '/service', target: `${up.url}/svc`, token: 'client', scopes: ['api:read'] },
    ],
  });
  alice = await signIn(stack, 'alice');
  aliceToken = (await alice.record()).tokens.accessToken;
});
afterAll(async () => {
  await stack?.stop();
  await up?.stop();
});
beforeEach(() => up.reset());

const gatewayHost = () => new URL(stack.baseUrl).host;
const asAlice = () => [`Cookie: ${alice.cookie}`, 'X-CSRF: 1'];

/** One raw request on a new connection; `host` is the Host header sent (default: the gateway's). */
async function send(
  method: string,
  target: string,
  lines: string[] = asAlice(),
  body = '',
  port = Number(new URL(stack.baseUrl).port),
  host = gatewayHost(),
): Promise<RawResponse> {
  const conn = await RawConnection.open(port);
  try {
    await conn.write(
      `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`,
    );
    if (body) await conn.write(body);
    return await conn.response({ method });
  } finally {
    conn.destroy();
  }
}

function only(): LoggedRequest {
  expect(up.log).toHaveLength(1);
  return up.log[0]!;
}

function expectError(res: RawResponse, status: number, error: string): void {
  expect(res.status).toBe(status);
  expect(JSON.parse(res.text)).toEqual({ error, message: expect.any(String) });
  expect(res.header('cache-control')).toBe('no-store');
}

describe('paths', () => {
  it.each([
    '/api//x',
    '/api/x//',
    '//api/x',
    '/api/x;y',
    '/api/x;',
    '/api/orders;jsessionid=x/1',
    '/api/orders/..;/x',
    '/api/..;/x',
    '/api/x%3by',
    '/api/x%3By',
    '/api/%2e%2e/x',
    '/api/%2E./x',
    '/api/x/%2e',
    '/api/a%2fb',
    '/api/a%2Fb',
    '/api/a%5cb',
    '/api/a%00b',
    '/api/%2e%2e%3b/x',
    '/nowhere//x',
    '/nowhere;x',
  ])('%s: 400 bad_request before any routing; the upstream sees nothing', async (path) => {
    expectError(await send('GET', path), 400, 'bad_request');
    expect(up.log).toEqual([]);
  });

  it.each([
    ['/api/%61dmin', '/admin-svc'],
    ['/api/%61dmin/x', '/admin-svc/x'],
    ['/api/%7Euser', '/v1/~user'],
    ['/api/%7euser', '/v1/~user'],
    ['/api/a%2Db%5Fc', '/v1/a-b_c'],
    ['/api/%30%39', '/v1/09'],
    ['/api/file%2Ejson', '/v1/file.json'],
    ['/api/%41%5A', '/v1/AZ'],
    ['/api/a%20b', '/v1/a%20b'],
    ['/api/caf%C3%A9', '/v1/caf%C3%A9'],
    ['/api/caf%c3%a9', '/v1/caf%c3%a9'],
    ['/api/a%2Bb%40c', '/v1/a%2Bb%40c'],
    // `%25` is not unreserved: no second decoding, so this is not /api/admin.
    ['/api/%2561dmin', '/v1/%2561dmin'],
    // The query is not a path: it passes as it came, `;` and encodings included.
    ['/api/x?q=%61&r=a;b', '/v1/x?q=%61&r=a;b'],
  ])('%s reaches the upstream as %s', async (path, upstreamUrl) => {
    expect((await send('GET', path)).status).toBe(200);
    expect(only()).toMatchObject({ method: 'GET', url: upstreamUrl, bearer: aliceToken });
  });

  describe('a stricter nested route (/api/admin: GET only) cannot be bypassed', () => {
    it('POST /api//admin/delete: 400, nothing forwarded', async () => {
      expectError(
        await send('POST', '/api//admin/delete', [...asAlice(), 'Content-Length: 0']),
        400,
        'bad_request',
      );
      expect(up.log).toEqual([]);
    });

    it.each(['/api/admin/delete', '/api/%61dmin/delete', '/api/%61%64%6d%69%6e/delete'])(
      'POST %s: 405 from the admin route',
      async (path) => {
        const res = await send('POST', path, [...asAlice(), 'Content-Length: 0']);
        expectError(res, 405, 'method_not_allowed');
        expect(res.header('allow')).toBe('GET, HEAD');
        expect(up.log).toEqual([]);
      },
    );

    it('prefixes match case-sensitively: /api/%41dmin is /api/Admin, the /api route', async () => {
      expect((await send('POST', '/api/%41dmin/x', [...asAlice(), 'Content-Length: 0'])).status).toBe(200);
      expect(only()).toMatchObject({ method: 'POST', url: '/v1/Admin/x' });
      up.reset();
      expectError(await send('GET', '/API/x'), 404, 'not_found');
      expect(up.log).toEqual([]);
    });
  });
});

describe('request headers (browser -> upstream)', () => {
  const STEERING = [
    'X-HTTP-Method-Override',
    'X-HTTP-Method',
    'X-Method-Override',
    'X-Original-URL',
    'X-Rewrite-URL',
    'X-Real-IP',
    'True-Client-IP',
    'X-Client-IP',
    'CF-Connecting-IP',
    'Fastly-Client-IP',
  ];
  const HOP = ['X-Hop', 'Keep-Alive', 'Proxy-Connection', 'Proxy-Authorization', 'TE', 'Trailer'];

  it('from an untrusted peer: token, cookies, X-CSRF, X-Forwarded-*, steering and hop-by-hop headers', async () => {
    const res = await send(
      'GET',
      '/api/headers',
      [
        `Cookie: theme=dark; ${alice.cookie}; other=1`,
        'X-CSRF: 1',
        'Authorization: Bearer forged-by-the-browser',
        'X-Forwarded-For: 6.6.6.6',
        'X-Forwarded-Host: evil.example',
        'X-Forwarded-Proto: https',
        'X-Forwarded-Port: 443',
        'X-Forwarded-Prefix: /evil',
        'Forwarded: for=6.6.6.6;host=evil.example;proto=https',
        ...STEERING.map(
          (h) => `${h}: ${h === 'X-Original-URL' || h === 'X-Rewrite-URL' ? '/admin' : '6.6.6.6'}`,
        ),
        'Connection: keep-alive, X-Hop',
        'X-Hop: drop me',
        'Keep-Alive: timeout=99',
        'Proxy-Connection: keep-alive',
        'Proxy-Authorization: Basic Zm9vOmJhcg==',
        'TE: trailers',
        'Trailer: X-Foo',
        'X-App: kept',
      ],
      '',
      undefined,
      'evil.example',
    );
    expect(res.status).toBe(200);
    const seen = only();
    const h = seen.headers;
    expect(seen.bearer).toBe(aliceToken);
    expect(h.cookie).toBe('theme=dark; other=1');
    expect(h['x-csrf']).toBeUndefined();
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    // BFF_PUBLIC_URL's host, never the request's Host.
    expect(h['x-forwarded-host']).toBe(gatewayHost());
    expect(h['x-forwarded-port']).toBeUndefined();
    expect(h['x-forwarded-prefix']).toBeUndefined();
    expect(h.forwarded).toBeUndefined();
    for (const name of [...STEERING, ...HOP]) expect(h[name.toLowerCase()], name).toBeUndefined();
    expect(h.connection ?? 'keep-alive').toMatch(/^(keep-alive|close)$/i);
    expect(h['x-app']).toBe('kept');
    expect(h.host).toBe(new URL(up.url).host);
    const count = (name: string) =>
      seen.rawHeaders.filter((n, i) => i % 2 === 0 && n.toLowerCase() === name).length;
    for (const name of ['host', 'authorization', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'])
      expect(count(name), name).toBe(1);
  });

  it('without a session cookie: no Cookie header at all, no Authorization on a none route', async () => {
    expect(
      (await send('GET', '/public/x', ['Authorization: Bearer from-browser', 'Cookie: bff-session=x']))
        .status,
    ).toBe(200);
    expect(only().headers.authorization).toBeUndefined();
    expect(only().headers.cookie).toBeUndefined();
  });

  it('Content-Length and Host named in Connection are not removed: the body arrives intact', async () => {
    const body = randomBytes(100_000).toString('base64');
    const lines = [...asAlice(), 'Connection: Content-Length, Host', `Content-Length: ${body.length}`];
    expect((await send('PUT', '/api/upload', lines, body)).status).toBe(200);
    const seen = only();
    expect(seen.method).toBe('PUT');
    expect(seen.headers.host).toBe(new URL(up.url).host);
    expect(createHash('sha256').update(seen.body).digest('hex')).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
  });

  it('an Upgrade header outside an upgrade: refused, or forwarded without it', async () => {
    const res = await send('GET', '/api/no-upgrade', [...asAlice(), 'Upgrade: h2c']);
    if (res.status >= 400 && res.status < 500) expect(up.log).toEqual([]);
    else {
      expect(res.status).toBe(200);
      expect(only().headers.upgrade).toBeUndefined();
    }
  });

  it('from a trusted proxy (TRUST_PROXY=loopback): X-Forwarded-For appended to, proto and host as told', async () => {
    const trusted = await startStack({
      sharedIdp: stack.idp,
      redis: stack.redis,
      env: { TRUST_PROXY: 'loopback' },
      routes: [{ prefix: '/public', target: `${up.url}/pub`, token: 'none', csrf: false }],
    });
    try {
      const res = await send(
        'GET',
        '/public/t',
        [
          'X-Forwarded-For: 6.6.6.6',
          'X-Forwarded-Proto: https',
          'X-Forwarded-Host: app.example.com',
          'X-Real-IP: 6.6.6.6',
          'X-HTTP-Method-Override: DELETE',
        ],
        '',
        Number(new URL(trusted.baseUrl).port),
        'evil.example',
      );
      expect(res.status).toBe(200);
      const h = only().headers;
      expect(h['x-forwarded-for']).toBe('6.6.6.6, 127.0.0.1');
      expect(h['x-forwarded-proto']).toBe('https');
      expect(h['x-forwarded-host']).toBe('app.example.com');
      expect(h['x-real-ip']).toBeUndefined();
      expect(h['x-http-method-override']).toBeUndefined();
    } finally {
      await trusted.stop();
    }
  });
});

describe('response headers (upstream -> browser)', () => {
  it('hop-by-hop headers of the upstream never reach the browser', async () => {
    const path = respondWith([
      ['Connection', 'X-Secret'],
      ['X-Secret', '1'],
      ['Keep-Alive', 'timeout=99, max=7'],
      ['Proxy-Connection', 'keep-alive'],
      ['Upgrade', 'h2c'],
      ['X-Kept', 'yes'],
    ]);
    const res = await send('GET', `/api/${path}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('respond-body');
    expect(res.header('x-secret')).toBeUndefined();
    expect(res.values('keep-alive')).not.toContain('timeout=99, max=7');
    expect(res.header('proxy-connection')).toBeUndefined();
    expect(res.header('upgrade')).toBeUndefined();
    expect(res.header('connection') ?? 'keep-alive').toMatch(/^(keep-alive|close)$/i);
    expect(res.header('x-kept')).toBe('yes');
  });

  it("a chunked answer with a Trailer: no Trailer header, the gateway's own framing, the body intact", async () => {
    const path = respondWith(
      [
        ['Trailer', 'X-Checksum'],
        ['Transfer-Encoding', 'chunked'],
      ],
      {
        trailer: 'X-Checksum',
        body: 'streamed',
      },
    );
    const res = await send('GET', `/api/${path}`);
    expect(res.status).toBe(200);
    expect(res.complete).toBe(true);
    expect(res.text).toBe('streamed');
    expect(res.header('trailer')).toBeUndefined();
    expect(res.values('transfer-encoding').length + res.values('content-length').length).toBe(1);
  });

  it("Set-Cookie for the gateway's cookies is dropped, others pass", async () => {
    const path = respondWith([
      ['Set-Cookie', 'bff-session=evil; Path=/'],
      ['Set-Cookie', 'bff-login=evil; Path=/'],
      ['Set-Cookie', 'pref=dark; Path=/'],
    ]);
    expect((await send('GET', `/api/${path}`)).values('set-cookie')).toEqual(['pref=dark; Path=/']);
  });

  it.each([
    ['a user route', '/api', asAlice, 'private, no-store'],
    ['an optional route with a session', '/maybe', asAlice, 'private, no-store'],
    ['an optional route without one', '/maybe', () => ['X-CSRF: 1'], 'private, no-store'],
    ['a none route', '/public', () => [], undefined],
    ['a client route', '/service', () => ['X-CSRF: 1'], undefined],
  ])('no Cache-Control from the upstream, on %s', async (_name, prefix, lines, expected) => {
    const res = await send('GET', `${prefix}/${respondWith([['X-A', '1']])}`, lines());
    expect(res.status).toBe(200);
    expect(res.header('cache-control')).toBe(expected);
  });

  it("the upstream's own Cache-Control is kept on a user route", async () => {
    const res = await send('GET', `/api/${respondWith([['Cache-Control', 'public, max-age=60']])}`);
    expect(res.values('cache-control')).toEqual(['public, max-age=60']);
  });
});

describe('failures and aborts', () => {
  it(
    'the browser goes away: the upstream request is closed at once, not at the 30 s timeout',
    { timeout: 10_000 },
    async () => {
      const conn = await RawConnection.open(Number(new URL(stack.baseUrl).port));
      await conn.write(
        `GET /api/hang HTTP/1.1\r\nHost: ${gatewayHost()}\r\n${asAlice().join('\r\n')}\r\n\r\n`,
      );
      const seen = await up.waitFor((r) => r.url === '/v1/hang');
      conn.destroy();
      await seen.closed;
      expect(seen.abandoned).toBe(true);
    },
  );

  it(
    'the browser goes away mid-upload: the upstream request is closed at once',
    { timeout: 10_000 },
    async () => {
      const conn = await RawConnection.open(Number(new URL(stack.baseUrl).port));
      const lines = [...asAlice(), 'Content-Length: 1000000'];
      await conn.write(`POST /api/hang HTTP/1.1\r\nHost: ${gatewayHost()}\r\n${lines.join('\r\n')}\r\n\r\n`);
      await conn.write('x'.repeat(10_000));
      const seen = await up.waitFor((r) => r.url === '/v1/hang');
      conn.destroy();
      await seen.closed;
      expect(seen.complete).toBe(false);
    },
  );

  it('upstream refuses the connection: 502 bad_gateway', async () => {
    expectError(await send('GET', '/api/down/x'), 502, 'bad_gateway');
  });

  it('no answer head within the route timeout: 504 gateway_timeout, and the upstream request is closed', async () => {
    const res = await send('GET', '/api/quick/hang');
    expectError(res, 504, 'gateway_timeout');
    const seen = await up.waitFor((r) => r.url === '/v1/hang');
    await seen.closed;
  });

  it('a stream that started in time outlives the route timeout', async () => {
    // /api/quick has a 1 s timeout; the upstream's second event comes 1.5 s after the first.
    const res = await send('GET', '/api/quick/sse?after=1500');
    expect(res.status).toBe(200);
    expect(res.complete).toBe(true);
    expect(res.text).toBe('data: first\n\ndata: second\n\n');
  });

  it('the upstream dies mid-body: the browser sees a cut, not a short answer', async () => {
    const res = await send('GET', '/api/die-mid-body');
    // 502 only if the reset overtook the answer's head inside the gateway.
    if (res.status === 502) return expectError(res, 502, 'bad_gateway');
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(res.body.length).toBeLessThan(1_000_000);
  });
});
