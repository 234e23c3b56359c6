import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, waitForStatus, type GatewayProcess } from '../helpers/process.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** Three gateway instances sharing one Redis: this process's and two child processes. */
let upstream: Upstream;
let stack: Stack;
const others: GatewayProcess[] = [];
let bases: string[];

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({ routes: [{ prefix: '/api', target: upstream.url, token: 'user' }] });
  const ports = await Promise.all([freePort(), freePort()]);
  for (const port of ports)
    others.push(spawnGateway({ ...stack.env, PORT: String(port), LOG_LEVEL: 'warn' }));
  await Promise.all(ports.map((port) => waitForStatus(`http://127.0.0.1:${port}/readyz`, 200)));
  bases = [stack.baseUrl, ...ports.map((port) => `http://127.0.0.1:${port}`)];
});
afterAll(async () => {
  for (const other of others) other.child.kill('SIGTERM');
  const codes = await Promise.all(others.map((o) => o.exited));
  await stack?.stop();
  await upstream?.stop();
  expect(codes).toEqual([0, 0]);
});
beforeEach(() => {
  upstream.reset();
  stack.idp.resetCounts();
});

function call(base: string, cookie: string, path = '/api/x'): Promise<Response> {
  return fetch(`${base}${path}`, { headers: { cookie, 'x-csrf': '1' } });
}

describe('many gateway instances, one Redis', () => {
  it('a session created on one is served by the others', async () => {
    const alice = await signIn(stack);
    for (const base of bases) {
      expect((await call(base, alice.cookie)).status).toBe(200);
      const me = await fetch(`${base}/auth/session`, { headers: { cookie: alice.cookie } });
      expect(((await me.json()) as { user: { sub: string } }).user.sub).toBe('alice');
    }
    const token = `Bearer ${(await alice.record()).tokens.accessToken}`;
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual([token, token, token]);
  });

  it('logout on one is seen by all', async () => {
    const bob = await signIn(stack, 'bob');
    const res = await fetch(`${bases[1]}/auth/logout`, {
      method: 'POST',
      headers: { cookie: bob.cookie, 'x-csrf': '1' },
    });
    expect(res.status).toBe(200);
    for (const base of bases) {
      expect((await call(base, bob.cookie)).status).toBe(401);
      expect((await fetch(`${base}/auth/session`, { headers: { cookie: bob.cookie } })).status).toBe(401);
    }
  });

  it('the refresh storm across all three costs exactly one grant', async () => {
    const carol = await signIn(stack, 'carol');
    await carol.expireAccessToken();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        bases.map((base) => call(base, carol.cookie, `/api/storm/${i}`).then((r) => r.status)),
      ).flat(),
    );
    expect(statuses).toEqual(Array(60).fill(200));
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
    expect(stack.idp.counts.grantErrors.refresh_token ?? 0).toBe(0);
    const token = `Bearer ${(await carol.record()).tokens.accessToken}`;
    expect(new Set(upstream.requests.map((r) => r.headers.authorization))).toEqual(new Set([token]));
  });
});
