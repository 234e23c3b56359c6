/**
 * The contract's rules for upgrades, with raw handshakes: what the upstream's handshake carries, and
 * which upgrades are refused with an HTTP error before any session work (no Redis command spent).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { RawConnection, type RawResponse } from '../helpers/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';

let up: RecordingUpstream;
let stack: Stack;
let alice: SignedIn;

beforeAll(async () => {
  up = await startRecordingUpstream();
  stack = await startStack({
    routes: [
      { prefix: '/ws', target: `${up.url}/socket`, token: 'user', websocket: true },
      { prefix: '/plain', target: `${up.url}/v1`, token: 'user' },
    ],
  });
  alice = await signIn(stack, 'alice');
});
afterAll(async () => {
  await stack?.stop();
  await up?.stop();
});
beforeEach(() => up.reset());

const WS_HEADERS = [
  'Upgrade: websocket',
  'Sec-WebSocket-Version: 13',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
];

/** Sends a raw handshake; returns the answer and the open connection (destroyed after the test). */
async function handshake(method: string, path: string, lines: string[], host?: string): Promise<RawResponse> {
  const conn = await RawConnection.open(Number(new URL(stack.baseUrl).port));
  try {
    await conn.write(
      `${method} ${path} HTTP/1.1\r\nHost: ${host ?? new URL(stack.baseUrl).host}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`,
    );
    return await conn.response({ method });
  } finally {
    conn.destroy();
  }
}

/** Redis commands (but INFO) run by anyone while `fn` runs: the gateway's session work shows here. */
async function redisCommandsDuring(fn: () => Promise<void>): Promise<Record<string, number>> {
  const stats = async () => {
    const info = await stack.redis.client.info('commandstats');
    const calls: Record<string, number> = {};
    for (const m of info.matchAll(/cmdstat_([a-z|_-]+):calls=(\d+)/g)) calls[m[1]!] = Number(m[2]);
    return calls;
  };
  const before = await stats();
  await fn();
  const after = await stats();
  const delta: Record<string, number> = {};
  for (const [cmd, n] of Object.entries(after)) {
    if (cmd === 'info') continue;
    const d = n - (before[cmd] ?? 0);
    if (d > 0) delta[cmd] = d;
  }
  return delta;
}

function expectRefused(res: RawResponse): void {
  expect(res.status).not.toBe(101);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(up.upgrades).toEqual([]);
  expect(up.log).toEqual([]);
}

// These run first: no socket is open yet, so nothing else of the gateway talks to Redis meanwhile.
describe('refused before any session or token work', () => {
  const H2C = [
    'Connection: Upgrade, HTTP2-Settings',
    'Upgrade: h2c',
    'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
  ];
  const WS = ['Connection: Upgrade', ...WS_HEADERS];
  const own = () => stack.baseUrl;

  it.each([
    { name: 'h2c on a websocket route', method: 'GET', path: '/ws/x', lines: H2C, origin: own },
    { name: 'h2c on a plain route', method: 'GET', path: '/plain/x', lines: H2C, origin: own },
    {
      name: 'an unknown protocol',
      method: 'GET',
      path: '/ws/x',
      lines: ['Connection: Upgrade', 'Upgrade: tls/1.3'],
      origin: own,
    },
    {
      name: 'a WebSocket upgrade on POST',
      method: 'POST',
      path: '/ws/x',
      lines: [...WS, 'Content-Length: 0'],
      origin: own,
    },
    {
      name: 'a WebSocket upgrade on PUT',
      method: 'PUT',
      path: '/ws/x',
      lines: [...WS, 'Content-Length: 0'],
      origin: own,
    },
    {
      name: 'a foreign Origin',
      method: 'GET',
      path: '/ws/x',
      lines: WS,
      origin: () => 'https://evil.example',
    },
    { name: 'no Origin', method: 'GET', path: '/ws/x', lines: WS, origin: () => undefined },
  ])(
    '$name: an HTTP 4xx, never a 101; nothing upstream; no Redis command',
    async ({ method, path, lines, origin }) => {
      const o = origin();
      const headers = [`Cookie: ${alice.cookie}`, ...lines, ...(o ? [`Origin: ${o}`] : [])];
      let res: RawResponse | Error | undefined;
      const spent = await redisCommandsDuring(async () => {
        res = await handshake(method, path, headers).catch((err: Error) => err);
      });
      expect(spent).toEqual({});
      // A dropped connection is no HTTP error either.
      if (res instanceof Error) throw res;
      expectRefused(res!);
    },
  );
});

describe('what the upstream handshake carries', () => {
  it("Connection: Upgrade exactly, the gateway's token, X-Forwarded-* of its own, no browser credentials", async () => {
    const res = await handshake(
      'GET',
      '/ws/chat?room=1',
      [
        'Connection: Upgrade, X-Forwarded-For, Authorization',
        ...WS_HEADERS,
        `Origin: ${stack.baseUrl}`,
        `Cookie: theme=dark; ${alice.cookie}`,
        'Authorization: Bearer forged-by-the-browser',
        'X-Forwarded-For: 6.6.6.6',
        'X-Forwarded-Host: evil.example',
        'Forwarded: for=6.6.6.6',
        'X-Real-IP: 6.6.6.6',
        'X-Original-URL: /admin',
        'X-CSRF: 1',
      ],
      'evil.example',
    );
    expect(res.status).toBe(101);
    expect(up.upgrades).toHaveLength(1);
    const seen = up.upgrades[0]!;
    const all = (name: string) =>
      seen.rawHeaders.flatMap((n, i) =>
        i % 2 === 0 && n.toLowerCase() === name ? [seen.rawHeaders[i + 1]!] : [],
      );
    expect(seen.url).toBe('/socket/chat?room=1');
    expect(all('connection')).toHaveLength(1);
    expect(all('connection')[0]!.toLowerCase()).toBe('upgrade');
    expect(all('upgrade')).toEqual(['websocket']);
    expect(all('authorization')).toEqual([`Bearer ${(await alice.record()).tokens.accessToken}`]);
    expect(all('x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(all('x-forwarded-host')).toEqual([new URL(stack.baseUrl).host]);
    expect(all('x-forwarded-proto')).toEqual(['http']);
    expect(seen.headers.forwarded).toBeUndefined();
    expect(seen.headers['x-real-ip']).toBeUndefined();
    expect(seen.headers['x-original-url']).toBeUndefined();
    expect(seen.headers['x-csrf']).toBeUndefined();
    expect(seen.headers.cookie).toBe('theme=dark');
    expect(seen.headers['sec-websocket-key']).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    expect(seen.headers.host).toBe(new URL(up.url).host);
  });

  it('an upstream refusal reaches the browser as that HTTP error, never a 101', async () => {
    const res = await handshake('GET', '/ws/refuse', [
      'Connection: Upgrade',
      ...WS_HEADERS,
      `Origin: ${stack.baseUrl}`,
      `Cookie: ${alice.cookie}`,
    ]);
    expect(res.status).toBe(403);
    expect(res.text).toBe('refused');
    expect(up.upgrades).toHaveLength(1);
  });
});
