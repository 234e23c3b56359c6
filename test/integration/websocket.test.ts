import { once } from 'node:events';
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  signIn,
  startStack,
  type SignedIn,
  type Stack,
} from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let stack: Stack;
let alice: SignedIn;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({
    routes: [
      { prefix: '/api/ws', target: `${upstream.url}/socket`, token: 'user', websocket: true },
      { prefix: '/api/plain', target: upstream.url, token: 'user' },
    ],
  });
  alice = await signIn(stack);
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

function wsUrl(path: string): string {
  return `${stack.baseUrl.replace('http', 'ws')}${path}`;
}

/** Opens a socket; resolves with it once open, or with the HTTP status it was refused with. */
function connect(
  path: string,
  headers: Record<string, string>,
): Promise<{ ws?: WebSocket; status?: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(path), { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    ws.once('error', reject);
  });
}

describe('WebSocket upgrades', () => {
  it('echo works, and the upstream saw the session token and no gateway cookie', async () => {
    const { ws } = await connect('/api/ws/chat?room=1', {
      cookie: `${alice.cookie}; theme=dark`,
      origin: stack.baseUrl,
    });
    expect(ws).toBeDefined();
    ws!.send('hello');
    const [message] = (await once(ws!, 'message')) as [Buffer];
    expect(message.toString()).toBe('hello');
    const seen = upstream.websockets[0]!;
    expect(seen.url).toBe('/socket/chat?room=1');
    expect(seen.headers.authorization).toBe(`Bearer ${(await alice.record()).tokens.accessToken}`);
    expect(seen.headers.cookie).toBe('theme=dark');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    ws!.close();
  });

  it('a foreign Origin is refused with 403, never a 101', async () => {
    const res = await connect('/api/ws', { cookie: alice.cookie, origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body!)).toEqual({ error: 'csrf_required', message: expect.any(String) });
    expect(upstream.websockets).toHaveLength(0);
  });

  it('no Origin at all is refused', async () => {
    expect((await connect('/api/ws', { cookie: alice.cookie })).status).toBe(403);
  });

  it('no session is refused with 401', async () => {
    const res = await connect('/api/ws', { origin: stack.baseUrl });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body!).error).toBe('unauthenticated');
    expect(upstream.websockets).toHaveLength(0);
  });

  it('a route without websocket: true refuses the upgrade', async () => {
    expect((await connect('/api/plain', { cookie: alice.cookie, origin: stack.baseUrl })).status).toBe(404);
  });

  it('traversal in the upgrade path is refused with 400', async () => {
    // A raw handshake: WebSocket clients normalise `%2e%2e` away before sending.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: new URL(stack.baseUrl).port,
        path: '/api/ws/%2e%2e/x',
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          origin: stack.baseUrl,
          cookie: alice.cookie,
        },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(upstream.websockets).toHaveLength(0);
  });

  it('an upstream refusal reaches the browser as a refusal, not a 101', async () => {
    const res = await connect('/api/ws/refuse', { cookie: alice.cookie, origin: stack.baseUrl });
    expect(res.status).toBe(403);
    expect(res.body).toBe('refused');
  });

  it('an expired access token is refreshed before the upgrade', async () => {
    const bob = await signIn(stack, 'bob');
    const before = await bob.record();
    await bob.expireAccessToken();
    const { ws } = await connect('/api/ws', { cookie: bob.cookie, origin: stack.baseUrl });
    const after = await bob.record();
    expect(after.tokens.accessToken).not.toBe(before.tokens.accessToken);
    expect(upstream.websockets[0]!.headers.authorization).toBe(`Bearer ${after.tokens.accessToken}`);
    ws!.close();
  });

  it('logout closes the open socket', async () => {
    const carol = await signIn(stack, 'carol');
    const { ws } = await connect('/api/ws', { cookie: carol.cookie, origin: stack.baseUrl });
    expect(ws!.readyState).toBe(WebSocket.OPEN);
    const closed = once(ws!, 'close');
    const res = await carol.browser.fetch(`${stack.baseUrl}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf': '1' },
    });
    expect(res.status).toBe(200);
    await closed;
    expect(ws!.readyState).toBe(WebSocket.CLOSED);
    expect(stack.parts.sockets.count).toBe(0);
  });

  it('a refresh the IdP refuses ends the session and closes its socket', async () => {
    const dave = await signIn(stack, 'dave');
    const { ws } = await connect('/api/ws', { cookie: dave.cookie, origin: stack.baseUrl });
    const closed = once(ws!, 'close');
    const rt = (await dave.record()).tokens.refreshToken!;
    const revoked = await fetch(stack.idp.url('/token/revocation'), {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ token: rt }),
    });
    expect(revoked.status).toBe(200);
    await dave.expireAccessToken();
    expect((await dave.api('/api/plain/x')).status).toBe(401);
    await closed;
    expect(ws!.readyState).toBe(WebSocket.CLOSED);
  });
});
