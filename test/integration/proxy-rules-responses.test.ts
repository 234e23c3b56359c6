/**
 * The contract's Proxying rules on the way back (upstream -> browser): hop-by-hop headers, trailers,
 * gateway cookies, Cache-Control; and failures and aborts (refused connection, timeouts, a cut body).
 * Raw requests (fetch would normalise paths and headers before the gateway saw them) and a real
 * upstream that logs what it got (test/helpers/proxy-rules-stack.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Stack } from '../helpers/gateway.js';
import { RawConnection } from '../helpers/raw-http.js';
import { respondWith, type RecordingUpstream } from '../helpers/recording-upstream.js';
import { useProxyRulesStack } from '../helpers/proxy-rules-stack.js';

const world = useProxyRulesStack();
const { gatewayHost, asAlice, send, expectError } = world;
let up: RecordingUpstream;
let stack: Stack;
beforeAll(() => {
  ({ up, stack } = world);
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
