/**
 * RFC 9470 from a real upstream: a 401 `insufficient_user_authentication` challenge becomes the
 * gateway's 401 `step_up_required` with the upstream's `acr_values` / `max_age` in `loginUrl`, on HTTP
 * requests and WebSocket handshakes; other 401s pass through untouched.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import {
  respondWith,
  startRecordingUpstream,
  type RecordingUpstream,
} from '../helpers/recording-upstream.js';

const CHALLENGE =
  'Bearer realm="orders", error="insufficient_user_authentication", ' +
  'error_description="A different authentication level is required", acr_values="urn:example:mfa urn:example:hwk", max_age=300';

let up: RecordingUpstream;
/** Refuses every WebSocket handshake with the RFC 9470 challenge, as an API behind a socket would. */
let wsUp: Server;
const wsHandshakes: string[] = [];
let stack: Stack;
let alice: SignedIn;

beforeAll(async () => {
  up = await startRecordingUpstream();
  wsUp = createServer((_req, res) => res.end());
  wsUp.on('upgrade', (req, socket) => {
    wsHandshakes.push(req.url ?? '');
    socket.end(
      'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=60\r\n' +
        'Content-Length: 4\r\nConnection: close\r\n\r\nnope',
    );
  });
  await new Promise<void>((resolve) => wsUp.listen(0, '127.0.0.1', resolve));
  const wsPort = (wsUp.address() as AddressInfo).port;
  stack = await startStack({
    routes: [
      { prefix: '/api/orders', target: `${up.url}/v1`, token: 'user' },
      { prefix: '/api/maybe', target: `${up.url}/v1`, token: 'optional' },
      { prefix: '/api/public', target: `${up.url}/v1`, token: 'none' },
      { prefix: '/api/ws', target: `http://127.0.0.1:${wsPort}/socket`, token: 'user', websocket: true },
    ],
  });
  alice = await signIn(stack, 'alice');
});
afterAll(async () => {
  await stack?.stop();
  await up?.stop();
  await new Promise<void>((resolve) => (wsUp ? wsUp.close(() => resolve()) : resolve()));
});
beforeEach(() => up.reset());

/** `…/respond` answering 401 with these WWW-Authenticate values (each its own header line). */
function challenged(...values: string[]): string {
  return respondWith(
    values.map((v) => ['www-authenticate', v]),
    { status: '401', body: 'upstream-secret-detail' },
  );
}

async function expectStepUp(res: Response, loginUrl: string): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBeNull();
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toEqual({ error: 'step_up_required', message: expect.any(String) as string, loginUrl });
}

describe('an upstream asking for a step-up (RFC 9470)', () => {
  it("becomes 401 step_up_required with the upstream's acr_values and max_age in loginUrl", async () => {
    const res = await alice.api(`/api/orders/${challenged(CHALLENGE)}`);
    await expectStepUp(res, '/auth/login?acr_values=urn%3Aexample%3Amfa%20urn%3Aexample%3Ahwk&max_age=300');
    // The upstream was asked (once, with the user's token): it is the one that decided.
    expect(up.log).toHaveLength(1);
    expect(up.log[0]!.bearer).toBe((await alice.record()).tokens.accessToken);
    const logged = stack.logs.json().find((l) => l.msg === 'upstream asked for a step-up sign-in');
    expect(logged).toMatchObject({ route: '/api/orders', maxAge: 300 });
  });

  it('finds the challenge among several, in separate header lines or one, on optional routes too', async () => {
    const separate = await alice.api(
      `/api/maybe/${challenged('Basic realm="x"', 'Bearer error="insufficient_user_authentication", acr_values="urn:example:mfa"')}`,
    );
    await expectStepUp(separate, '/auth/login?acr_values=urn%3Aexample%3Amfa');
    const joined = await alice.api(
      `/api/orders/${challenged('Negotiate abc==, DPoP algs="ES256", Bearer error=insufficient_user_authentication, max_age=0')}`,
    );
    await expectStepUp(joined, '/auth/login?max_age=0');
  });

  it('drops values unfit for a URL and asks for a fresh sign-in when nothing usable is left', async () => {
    const res = await alice.api(
      `/api/orders/${challenged('Bearer error="insufficient_user_authentication", acr_values="\u00e9\u00e9", max_age=soon')}`,
    );
    await expectStepUp(res, '/auth/login?max_age=0');
  });

  it('keeps the pooled upstream connection usable: its 401 body is read, not left hanging', async () => {
    const before = up.connections();
    for (let i = 0; i < 3; i++) {
      await expectStepUp(
        await alice.api(`/api/orders/${challenged(CHALLENGE)}`),
        expect.any(String) as string,
      );
    }
    const ok = await alice.api('/api/orders/after');
    expect(ok.status).toBe(200);
    expect(up.log.map((r) => r.conn)).toEqual(Array(4).fill(up.log[0]!.conn));
    expect(up.connections() - before).toBeLessThanOrEqual(1);
  });

  it.each([
    ['another Bearer error', 'Bearer error="invalid_token"'],
    ['a non-Bearer scheme', 'Basic error="insufficient_user_authentication", max_age=5'],
  ])('passes any other 401 through as the upstream sent it: %s', async (_name, value) => {
    const res = await alice.api(`/api/orders/${challenged(value)}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(value);
    expect(await res.text()).toBe('upstream-secret-detail');
  });

  it('leaves routes without the user token alone (token: none): the challenge is not about this sign-in', async () => {
    const res = await alice.api(`/api/public/${challenged(CHALLENGE)}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(await res.text()).toBe('upstream-secret-detail');
  });

  it('refuses a WebSocket handshake the upstream challenged with step_up_required, never a 101', async () => {
    const answer = await new Promise<{ status: number | undefined; body: string; auth: unknown }>(
      (resolve, reject) => {
        const ws = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/ws/live`, {
          headers: { cookie: alice.cookie, origin: stack.baseUrl },
        });
        ws.once('open', () => reject(new Error('the socket opened')));
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode, body, auth: res.headers['www-authenticate'] }),
          );
        });
        ws.once('error', reject);
      },
    );
    expect(wsHandshakes).toEqual(['/socket/live']);
    expect(answer.status).toBe(401);
    expect(answer.auth).toBeUndefined();
    expect(JSON.parse(answer.body)).toEqual({
      error: 'step_up_required',
      message: expect.any(String) as string,
      loginUrl: '/auth/login?max_age=60',
    });
  });
});
