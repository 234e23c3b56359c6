import net from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let stack: Stack;
let alice: SignedIn;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({ routes: [{ prefix: '/api', target: `${upstream.url}/v1`, token: 'user' }] });
  alice = await signIn(stack, 'alice');
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

/** Resolves once the gateway has logged a line matching `test` (awaited on the captured log stream). */
async function logged(test: (line: Record<string, unknown>) => boolean): Promise<void> {
  await stack.logs.waitFor(test);
}

it('a browser that leaves while its session is being read never reaches the upstream', async () => {
  stack.logs.clear();
  // A hung store holds the session read; the browser gives up meanwhile.
  stack.redis.pause();
  try {
    const socket = net.connect(Number(new URL(stack.baseUrl).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.end(`GET /api/left-early HTTP/1.1\r\nHost: x\r\nCookie: ${alice.cookie}\r\nX-CSRF: 1\r\n\r\n`);
    // Logged only for a request the front door matched to its route, i.e. one whose session read began.
    await logged(
      (l) =>
        l.msg === 'request aborted' && (l.req as { path?: string } | undefined)?.path === '/api/left-early',
    );
  } finally {
    stack.redis.resume();
  }
  // The store answers now; a marker request proves the gateway has caught up, and is the only one seen.
  const marker = await fetch(`${stack.baseUrl}/api/marker`, {
    headers: { cookie: alice.cookie, 'x-csrf': '1' },
  });
  expect(marker.status).toBe(200);
  expect(upstream.requests.map((r) => r.url)).toEqual(['/v1/marker']);
});
