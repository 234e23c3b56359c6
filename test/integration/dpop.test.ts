/**
 * OIDC_DPOP=true (RFC 9449) against the real oidc-provider (DPoP on) and a verifying upstream that checks
 * tokens and proofs as a resource server must: every token the gateway obtains is bound to a key
 * (`cnf.jkt`), the session's key sealed in its record, and every proxied request and WebSocket
 * handshake carries `Authorization: DPoP <token>` with a fresh proof of that key.
 */
import { calculateJwkThumbprint, decodeJwt, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { dpopJwk } from '../../src/session/records/dpop-key.js';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { signDpopProof } from '../helpers/verifying-upstream-checks.js';
import { startVerifyingUpstream, type VerifyingUpstream } from '../helpers/verifying-upstream.js';

const API = 'https://api.example';

let idp: TestIdp;
let stack: Stack;
let upstream: VerifyingUpstream;
let alice: SignedIn;

beforeAll(async () => {
  // JWT access tokens for API, so the upstream can check them (and their cnf.jkt) against the IdP's JWKS.
  idp = await startIdp({ jwtAccessTokens: { audience: API } });
  upstream = await startVerifyingUpstream({ issuer: idp.issuer, audience: API });
  stack = await startStack({
    sharedIdp: idp,
    env: { OIDC_DPOP: 'true' },
    routes: [
      { prefix: '/api/ws', target: upstream.url, token: 'user', websocket: true },
      { prefix: '/api', target: upstream.url, token: 'user' },
      { prefix: '/svc', target: `${upstream.url}/svc`, token: 'client', scopes: ['api:read'] },
    ],
  });
  alice = await signIn(stack, 'alice');
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
  await idp?.stop();
});

/** The thumbprint of a stored key's public half (dpop-key.ts is checked against node's own JWKs in the unit tests). */
function thumbprintOf(key: string): Promise<string> {
  const { d: _private, ...publicJwk } = dpopJwk(key);
  return calculateJwkThumbprint(publicJwk);
}

describe('OIDC_DPOP=true', () => {
  it("binds the session's tokens to its own key, kept sealed in its record", async () => {
    const record = await alice.record();
    expect(record.dpopKey).toMatch(/^[\w-]{43}$/);
    expect(record.tokens.tokenType.toLowerCase()).toBe('dpop');
    const jkt = await thumbprintOf(record.dpopKey!);
    expect(decodeJwt(record.tokens.accessToken).cnf).toEqual({ jkt });
    // The private key is never in the store in the clear.
    const raw = await stack.parts.stores.kv.getBytes(stack.parts.keys.session(alice.sid));
    expect(raw!.includes(Buffer.from(record.dpopKey!))).toBe(false);
    // Another session, another key.
    const bob = await signIn(stack, 'bob');
    expect((await bob.record()).dpopKey).not.toBe(record.dpopKey);
  });

  it('sends every request with `Authorization: DPoP` and a fresh proof the upstream accepts', async () => {
    upstream.reset();
    const jkt = await thumbprintOf((await alice.record()).dpopKey!);
    // A browser's own DPoP header never reaches the upstream (it would make two).
    expect((await alice.api('/api/orders/1?page=2', { headers: { dpop: 'forged.proof.x' } })).status).toBe(
      200,
    );
    const posted = await alice.api('/api/orders', { method: 'POST', body: '{"n":1}' });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toMatchObject({ scheme: 'DPoP', method: 'POST', jkt, sub: 'alice' });
    expect((await alice.api('/api/orders/1')).status).toBe(200);
    expect(upstream.refused()).toEqual([]);
    const seen = upstream.accepted();
    expect(seen.map((r) => [r.method, r.scheme, r.jkt])).toEqual([
      ['GET', 'DPoP', jkt],
      ['POST', 'DPoP', jkt],
      ['GET', 'DPoP', jkt],
    ]);
    // Fresh proofs: no two alike (the upstream also refuses a replayed jti).
    expect(new Set(seen.map((r) => r.proof)).size).toBe(3);
    expect(decodeJwt(seen[0]!.proof!)).toMatchObject({ htu: `${upstream.url}/orders/1`, htm: 'GET' });
  });

  it('refreshes with a proof: the new tokens stay bound to the same key', async () => {
    const before = await alice.record();
    const jkt = await thumbprintOf(before.dpopKey!);
    await alice.expireAccessToken();
    idp.resetCounts();
    upstream.reset();
    expect((await alice.api('/api/me')).status).toBe(200);
    const after = await alice.record();
    expect(after.tokens.accessToken).not.toBe(before.tokens.accessToken);
    expect(after.dpopKey).toEqual(before.dpopKey);
    expect(decodeJwt(after.tokens.accessToken).cnf).toEqual({ jkt });
    expect(idp.issued.map((t) => [t.grantType, t.tokenType, t.jkt])).toEqual([
      ['refresh_token', 'DPoP', jkt],
    ]);
    expect(upstream.accepted().map((r) => r.jkt)).toEqual([jkt]);
  });

  it('a stolen token is useless without the key', async () => {
    const { tokens } = await alice.record();
    const url = `${upstream.url}/api/orders`;
    upstream.reset();
    const asBearer = await fetch(url, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(asBearer.status).toBe(401);
    const thief = await generateKeyPair('ES256', { extractable: true });
    const proof = await signDpopProof({ ...thief, htm: 'GET', htu: url, token: tokens.accessToken });
    const withOwnKey = await fetch(url, {
      headers: { authorization: `DPoP ${tokens.accessToken}`, dpop: proof },
    });
    expect(withOwnKey.status).toBe(401);
    expect(upstream.refused().map((r) => r.reason)).toEqual([
      'DPoP-bound token sent as Bearer',
      'proof key does not match cnf.jkt',
    ]);
  });

  it("binds client-credentials tokens to the gateway's own key", async () => {
    idp.resetCounts();
    upstream.reset();
    const gatewayKey = stack.parts.idp.dpop.gatewayKey!;
    const jkt = await thumbprintOf(gatewayKey);
    const res = await fetch(`${stack.baseUrl}/svc/items`, { headers: { 'x-csrf': '1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ scheme: 'DPoP', jkt, path: '/svc/items' });
    expect(idp.issued.map((t) => [t.grantType, t.tokenType, t.jkt])).toEqual([
      ['client_credentials', 'DPoP', jkt],
    ]);
    // The gateway's key is not a session's.
    expect(gatewayKey).not.toBe((await alice.record()).dpopKey);
  });

  it('WebSocket handshakes carry the token and a proof (htm GET, htu the http URL)', async () => {
    upstream.reset();
    const ws = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/ws/chat?room=1`, {
      headers: { cookie: alice.cookie, origin: stack.baseUrl },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => ws.once('message', (m: Buffer) => resolve(m.toString())));
    ws.send('ping');
    expect(await echoed).toBe('ping');
    ws.close();
    const [seen] = upstream.accepted();
    expect(seen).toMatchObject({ upgrade: true, scheme: 'DPoP', status: 101 });
    expect(decodeJwt(seen!.proof!)).toMatchObject({ htm: 'GET', htu: `${upstream.url}/chat` });
  });
});
