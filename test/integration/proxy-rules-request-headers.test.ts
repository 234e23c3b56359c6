/**
 * The contract's Proxying rules for request headers (browser -> upstream): what is dropped, replaced
 * or added, from an untrusted peer and from a trusted proxy.
 * Raw requests (fetch would normalise paths and headers before the gateway saw them) and a real
 * upstream that logs what it got (test/helpers/proxy-rules-stack.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { type RecordingUpstream } from '../helpers/recording-upstream.js';
import { useProxyRulesStack } from '../helpers/proxy-rules-stack.js';

const world = useProxyRulesStack();
const { gatewayHost, asAlice, send, only } = world;
let up: RecordingUpstream;
let stack: Stack;
let alice: SignedIn;
let aliceToken: string;
beforeAll(() => {
  ({ up, stack, alice, aliceToken } = world);
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
