import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, waitForStatus } from '../helpers/process.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let stack: Stack;
let metricsPort: number;

beforeAll(async () => {
  upstream = await startUpstream();
  metricsPort = await freePort();
  stack = await startStack({
    env: { METRICS_PORT: String(metricsPort) },
    routes: [
      { prefix: '/api', target: upstream.url, token: 'user', websocket: true },
      { prefix: '/service', target: upstream.url, token: 'client' },
    ],
  });
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});

async function metrics(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/plain/);
  return res.text();
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('metrics on METRICS_PORT', () => {
  it('are not served on the public port', async () => {
    expect((await fetch(`${stack.baseUrl}/metrics`)).status).toBe(404);
  });

  it('move with logins, requests, upstream calls, refreshes, IdP calls, store errors, logouts and WebSockets', async () => {
    const before = await metrics();
    const alice = await signIn(stack);
    expect((await alice.api('/api/a')).status).toBe(200);
    expect((await fetch(`${stack.baseUrl}/api/a`, { headers: { 'x-csrf': '1' } })).status).toBe(401);
    await alice.expireAccessToken();
    expect((await alice.api('/api/b')).status).toBe(200);
    expect((await fetch(`${stack.baseUrl}/service/x`, { headers: { 'x-csrf': '1' } })).status).toBe(200);
    const ws = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/ws`, {
      headers: { cookie: alice.cookie, origin: stack.baseUrl },
    });
    await once(ws, 'open');
    const during = await metrics();
    expect(value(during, 'bff_websockets_open')).toBe(1);
    stack.redis.pause();
    try {
      expect((await alice.api('/api/c')).status).toBe(503);
    } finally {
      stack.redis.resume();
    }
    await expect.poll(async () => (await alice.api('/api/d')).status, { timeout: 10_000 }).toBe(200);
    const closed = once(ws, 'close');
    expect(
      (
        await alice.browser.fetch(`${stack.baseUrl}/auth/logout`, {
          method: 'POST',
          headers: { 'x-csrf': '1' },
        })
      ).status,
    ).toBe(200);
    await closed;

    const after = await metrics();
    const moved = (series: string) => value(after, series) - value(before, series);
    expect(moved('bff_logins_total{outcome="ok"}')).toBe(1);
    expect(moved('bff_http_requests_total{route="/api",method="GET",status="200"}')).toBeGreaterThanOrEqual(
      3,
    );
    expect(moved('bff_http_requests_total{route="/api",method="GET",status="401"}')).toBe(1);
    expect(moved('bff_http_requests_total{route="/auth/callback",method="GET",status="200"}')).toBe(1);
    expect(
      moved('bff_http_request_duration_seconds_count{route="/api",method="GET"}'),
    ).toBeGreaterThanOrEqual(4);
    expect(moved('bff_upstream_duration_seconds_count{route="/api",status="200"}')).toBeGreaterThanOrEqual(3);
    expect(moved('bff_token_refresh_total{outcome="ok"}')).toBe(1);
    expect(moved('bff_idp_request_duration_seconds_count{operation="code_exchange",outcome="ok"}')).toBe(1);
    expect(moved('bff_idp_request_duration_seconds_count{operation="refresh",outcome="ok"}')).toBe(1);
    expect(moved('bff_idp_request_duration_seconds_count{operation="client_credentials",outcome="ok"}')).toBe(
      1,
    );
    expect(moved('bff_idp_request_duration_seconds_count{operation="revocation",outcome="ok"}')).toBe(1);
    expect(moved('bff_session_store_errors_total')).toBeGreaterThanOrEqual(1);
    expect(moved('bff_logouts_total{kind="rp"}')).toBe(1);
    expect(value(after, 'bff_websockets_open')).toBe(0);
    expect(after).toContain('bff_process_cpu_seconds_total');
    // Labels are route prefixes, never raw paths (bounded cardinality).
    expect(after).not.toContain('/api/a');
  });

  it("count a refresh shared through another instance's lock, and the time waited for it", async () => {
    const before = await metrics();
    const carol = await signIn(stack, 'carol');
    await carol.expireAccessToken();
    // Another instance holds this session's refresh lock.
    const lockKey = stack.parts.keys.refreshLock(carol.sid);
    await stack.redis.client.set(lockKey, 'another-instance', 'PX', 10_000);
    const calls = async () =>
      Number(/cmdstat_set:calls=(\d+)/.exec(await stack.redis.client.info('commandstats'))?.[1] ?? 0);
    const setsBefore = await calls();
    const pending = carol.api('/api/shared');
    // This instance has tried the lock (SET NX) and is waiting.
    await expect.poll(calls, { timeout: 5000 }).toBeGreaterThan(setsBefore);
    // The other instance finishes: a fresh token in the session, the lock released.
    const loaded = (await stack.parts.records.read(carol.sid))!;
    const now = Date.now();
    await stack.parts.records.replace(loaded, {
      ...loaded.record,
      accessTokenIssuedAt: now,
      accessTokenExpiresAt: now + 60_000,
    });
    await stack.redis.client.del(lockKey);
    expect((await pending).status).toBe(200);
    const after = await metrics();
    const moved = (series: string) => value(after, series) - value(before, series);
    expect(moved('bff_token_refresh_total{outcome="shared"}')).toBe(1);
    expect(moved('bff_token_refresh_total{outcome="ok"}')).toBe(0);
    expect(moved('bff_refresh_lock_wait_seconds_count')).toBe(1);
  });

  it('count transient refresh failures and IdP errors', async () => {
    const before = await metrics();
    const bob = await signIn(stack, 'bob');
    stack.idp.setDown(true);
    try {
      await bob.expireAccessToken();
      expect((await bob.api('/api/2')).status).toBe(503);
    } finally {
      stack.idp.setDown(false);
    }
    const after = await metrics();
    const moved = (series: string) => value(after, series) - value(before, series);
    expect(moved('bff_token_refresh_total{outcome="transient"}')).toBe(1);
    expect(moved('bff_idp_errors_total{operation="refresh"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM: in-flight requests finish, WebSockets get a going-away close, new connections are refused, exit 0', async () => {
    const alice = await signIn(stack, 'alice');
    const port = await freePort();
    const proc = spawnGateway({ ...stack.env, PORT: String(port), LOG_LEVEL: 'info', METRICS_PORT: '' });
    const base = `http://127.0.0.1:${port}`;
    await waitForStatus(`${base}/readyz`, 200);

    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, {
      headers: { cookie: alice.cookie, origin: stack.env.BFF_PUBLIC_URL! },
    });
    await once(ws, 'open');
    const wsClosed = once(ws, 'close') as Promise<[number, Buffer]>;
    upstream.reset();
    const slow = fetch(`${base}/api/slow?ms=1500`, { headers: { cookie: alice.cookie, 'x-csrf': '1' } });
    // The slow request has reached the upstream: it is in flight.
    await expect.poll(() => upstream.requests.length, { timeout: 5000 }).toBe(1);

    proc.child.kill('SIGTERM');
    const [code] = await wsClosed;
    expect(code).toBe(1001);
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('slow done');
    expect(await proc.exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    expect(proc.stdout()).toContain('shutting down');
  });

  it('readyz answers 503 as soon as shutdown starts', async () => {
    const s = await startStack({ sharedIdp: stack.idp, redis: stack.redis });
    const closing = s.gateway.close();
    const { default: request } = await import('supertest');
    const res = await request(s.gateway.app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks.shuttingDown).toBe(true);
    await closing;
    await s.stop();
  });
});
