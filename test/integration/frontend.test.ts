import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, type Stack } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let staticStack: Stack;
let devStack: Stack;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bff-spa-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>spa</title>');
  writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
  upstream = await startUpstream();
  staticStack = await startStack({ env: { FRONTEND_DIR: dir } });
  devStack = await startStack({
    sharedIdp: staticStack.idp,
    redis: staticStack.redis,
    env: { FRONTEND_URL: upstream.url },
  });
});
afterAll(async () => {
  await devStack?.stop();
  await staticStack?.stop();
  await upstream?.stop();
});

describe('FRONTEND_DIR', () => {
  it('serves the SPA at / with index.html never cached', async () => {
    const res = await fetch(`${staticStack.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>spa</title>');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const js = await fetch(`${staticStack.baseUrl}/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });

  it('client-side routes that accept HTML get index.html; other unknown paths a JSON 404', async () => {
    const page = await fetch(`${staticStack.baseUrl}/orders/42`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>spa</title>');
    const data = await fetch(`${staticStack.baseUrl}/orders/42`, { headers: { accept: 'application/json' } });
    expect(data.status).toBe(404);
    expect(await data.json()).toEqual({ error: 'not_found', message: expect.any(String) });
    const auth = await fetch(`${staticStack.baseUrl}/auth/nothing`, { headers: { accept: 'text/html' } });
    expect(auth.status).toBe(404);
  });
});

describe('FRONTEND_URL', () => {
  it('forwards non-/auth paths to the dev server, WebSockets too', async () => {
    const res = await fetch(`${devStack.baseUrl}/src/main.ts?t=1`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { url: string }).url).toBe('/src/main.ts?t=1');
    expect((await fetch(`${devStack.baseUrl}/auth/session`)).status).toBe(401);

    const ws = new WebSocket(`${devStack.baseUrl.replace('http', 'ws')}/hmr`, {
      headers: { origin: devStack.baseUrl },
    });
    await once(ws, 'open');
    ws.send('ping');
    const [msg] = (await once(ws, 'message')) as [Buffer];
    expect(msg.toString()).toBe('ping');
    ws.close();
  });
});
