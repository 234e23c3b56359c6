/**
 * Streaming through the proxy (uploads, chunked uploads, large downloads, server-sent events, live
 * streams past the route timeout) and the hot path: its Redis budget, upstream keep-alive, a store outage.
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SignedIn, type Stack } from '../helpers/gateway.js';
import { useProxyStack } from '../helpers/proxy-stack.js';
import { downloadBytes, type Upstream } from '../helpers/upstream.js';

const world = useProxyStack();
const { lastSeen } = world;
let stack: Stack;
let upstream: Upstream;
let alice: SignedIn;
beforeAll(() => {
  ({ stack, upstream, alice } = world);
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
