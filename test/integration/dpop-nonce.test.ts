/**
 * OIDC_DPOP nonces (RFC 9449 §8, §9): the IdP's `use_dpop_nonce` and an upstream's
 * `WWW-Authenticate: DPoP error="use_dpop_nonce"` are answered with one retry carrying the nonce (an
 * upstream only for requests without a body); nonces are kept per origin, so later requests carry them
 * from the start.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { startVerifyingUpstream, type VerifyingUpstream } from '../helpers/verifying-upstream.js';

const API = 'https://api.example';

let idp: TestIdp;
let stack: Stack;
let upstream: VerifyingUpstream;
let alice: SignedIn;
/** Answers every request with a use_dpop_nonce challenge and a new nonce; keeps the proofs it got. */
const stubborn = { seen: [] as string[], server: undefined as Server | undefined, url: '' };

beforeAll(async () => {
  idp = await startIdp({ jwtAccessTokens: { audience: API } });
  upstream = await startVerifyingUpstream({ issuer: idp.issuer, audience: API });
  stubborn.server = createServer((req, res) => {
    stubborn.seen.push(String(req.headers.dpop));
    req.resume();
    res.writeHead(401, {
      'www-authenticate': 'DPoP error="use_dpop_nonce"',
      'dpop-nonce': `n${stubborn.seen.length}`,
    });
    res.end();
  });
  await new Promise<void>((resolve) => stubborn.server!.listen(0, '127.0.0.1', resolve));
  stubborn.url = `http://127.0.0.1:${(stubborn.server.address() as AddressInfo).port}`;
  stack = await startStack({
    sharedIdp: idp,
    env: { OIDC_DPOP: 'true' },
    routes: [
      { prefix: '/api/ws', target: upstream.url, token: 'user', websocket: true },
      { prefix: '/api', target: upstream.url, token: 'user' },
      { prefix: '/stubborn', target: stubborn.url, token: 'user' },
    ],
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
  await idp?.stop();
  stubborn.server?.closeAllConnections();
  await new Promise((resolve) => stubborn.server?.close(resolve));
});

/** The token-endpoint errors and successes, in order, as `error` or `ok grant_type`. */
function grantEvents(): string[] {
  return idp.events
    .filter((e) => e.name === 'grant.success' || e.name === 'grant.error')
    .map((e) => (e.name === 'grant.error' ? (e.error ?? 'error') : `ok ${e.grantType}`));
}

describe('the IdP demands a DPoP nonce', () => {
  beforeEach(() => idp.setDpopNonce(true));

  it('the first token request is retried once with the nonce; later ones, any session, carry it at once', async () => {
    idp.resetCounts();
    alice = await signIn(stack, 'alice');
    expect(grantEvents()).toEqual(['use_dpop_nonce', 'ok authorization_code']);
    expect((await alice.record()).tokens.tokenType.toLowerCase()).toBe('dpop');

    // Another session (another key, another openid-client handle) and a refresh: no challenge again.
    idp.resetCounts();
    const bob = await signIn(stack, 'bob');
    await alice.expireAccessToken();
    expect((await alice.api('/api/me')).status).toBe(200);
    expect(grantEvents()).toEqual(['ok authorization_code', 'ok refresh_token']);
    expect((await bob.api('/api/me')).status).toBe(200);
  });
});

describe('an upstream demands a DPoP nonce', () => {
  beforeAll(async () => {
    idp.setDpopNonce(false);
    alice ??= await signIn(stack, 'alice');
  });
  beforeEach(() => {
    upstream.setRequireNonce(true);
    upstream.rotateNonce();
    upstream.reset();
  });
  afterAll(() => upstream.setRequireNonce(false));

  it('a request without a body is retried once with the nonce, and the next one carries it', async () => {
    const res = await alice.api('/api/orders');
    expect(res.status).toBe(200);
    expect(upstream.received.map((r) => [r.status, r.error])).toEqual([
      [401, 'use_dpop_nonce'],
      [200, undefined],
    ]);
    expect((await alice.api('/api/orders/2')).status).toBe(200);
    expect(upstream.received).toHaveLength(3);
  });

  it('with a body the 401 reaches the browser, and the next request carries the nonce', async () => {
    const first = await alice.api('/api/orders', { method: 'POST', body: '{"n":1}' });
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toContain('use_dpop_nonce');
    expect(upstream.received).toHaveLength(1);
    const second = await alice.api('/api/orders', { method: 'POST', body: '{"n":1}' });
    expect(second.status).toBe(200);
    expect(upstream.received.map((r) => r.status)).toEqual([401, 200]);
  });

  it('a WebSocket handshake is retried once with the nonce', async () => {
    const ws = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/ws/chat`, {
      headers: { cookie: alice.cookie, origin: stack.baseUrl },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    ws.close();
    expect(upstream.received.map((r) => [r.upgrade, r.status, r.error])).toEqual([
      [true, 401, 'use_dpop_nonce'],
      [true, 101, undefined],
    ]);
  });

  it('a retry that is challenged again reaches the browser: one retry only', async () => {
    // An upstream that wants a new nonce every time.
    stubborn.seen.length = 0;
    const res = await alice.api('/stubborn/x');
    expect(res.status).toBe(401);
    expect(res.headers.get('dpop-nonce')).toBe('n2');
    expect(stubborn.seen.map((proof) => decodeJwt(proof).nonce)).toEqual([undefined, 'n1']);
  });
});
