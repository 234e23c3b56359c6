/**
 * The verifying upstream (test/helpers/verifying-upstream.ts) refuses what a resource server must
 * refuse: tokens for another audience, forged tokens, and forged, replayed, stale or mismatched DPoP
 * proofs; it demands nonces when told to. Real IdP tokens, proofs signed here.
 */
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { idpClient, type IdpClientHandle } from '../helpers/idp-client.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { signDpopProof, type ProofInput } from '../helpers/verifying-upstream-checks.js';
import { startVerifyingUpstream, type VerifyingUpstream } from '../helpers/verifying-upstream.js';

const ORDERS = 'https://orders.example';
const BILLING = 'https://billing.example';

let idp: TestIdp;
let rp: IdpClientHandle;
let orders: VerifyingUpstream;
let billing: VerifyingUpstream;
let bearer: { orders: string; billing: string };
let bound: { token: string; keys: client.CryptoKeyPair };

beforeAll(async () => {
  idp = await startIdp({ resources: [ORDERS, BILLING] });
  rp = await idpClient(idp);
  orders = await startVerifyingUpstream({ issuer: idp.issuer, audience: ORDERS });
  billing = await startVerifyingUpstream({ issuer: idp.issuer, audience: BILLING });
  const plain = await rp.signIn({ resources: [ORDERS, BILLING] });
  const o = await client.refreshTokenGrant(rp.config, plain.refresh_token!, { resource: ORDERS });
  const b = await client.refreshTokenGrant(rp.config, o.refresh_token!, { resource: BILLING });
  bearer = { orders: o.access_token, billing: b.access_token };
  const { keyPair, handle } = await rp.dpopKey();
  const signed = await rp.signIn({ resources: [ORDERS], dpop: handle });
  const d = await client.refreshTokenGrant(
    rp.config,
    signed.refresh_token!,
    { resource: ORDERS },
    { DPoP: handle },
  );
  bound = { token: d.access_token, keys: keyPair };
});
afterAll(async () => {
  await Promise.all([orders?.stop(), billing?.stop(), idp?.stop()]);
});

async function call(
  api: VerifyingUpstream,
  headers: Record<string, string>,
  path = '/v1/items?x=1',
  method = 'GET',
) {
  const res = await fetch(`${api.url}${path}`, { method, headers });
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    nonce: res.headers.get('dpop-nonce'),
  };
}

function proof(overrides: Partial<ProofInput> = {}): Promise<string> {
  return signDpopProof({
    privateKey: bound.keys.privateKey,
    publicKey: bound.keys.publicKey,
    htm: 'GET',
    htu: `${orders.url}/v1/items`,
    token: bound.token,
    ...overrides,
  });
}

const dpopCall = async (p: string, path?: string, method?: string) =>
  call(orders, { authorization: `DPoP ${bound.token}`, dpop: p }, path, method);

describe('verifying upstream: audience', () => {
  it("accepts its own API's token and refuses the other API's (and a missing or forged one)", async () => {
    orders.reset();
    expect((await call(orders, { authorization: `Bearer ${bearer.orders}` })).status).toBe(200);
    const wrong = await call(orders, { authorization: `Bearer ${bearer.billing}` });
    expect(wrong.status).toBe(401);
    expect(wrong.challenge).toBe('Bearer error="invalid_token", error_description="wrong audience"');
    expect((await call(billing, { authorization: `Bearer ${bearer.billing}` })).status).toBe(200);
    expect((await call(orders, {})).status).toBe(401);
    const [h, p] = bearer.orders.split('.');
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT(decodeJwt(bearer.orders))
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'test-rs256' })
      .sign(other.privateKey);
    expect((await call(orders, { authorization: `Bearer ${forged}` })).status).toBe(401);
    expect((await call(orders, { authorization: `Bearer ${h}.${p}.AAAA` })).status).toBe(401);
    expect(orders.accepted().map((r) => [r.sub, r.aud, r.scheme])).toEqual([['alice', ORDERS, 'Bearer']]);
    expect(orders.refused().map((r) => r.reason)).toEqual([
      'wrong audience',
      'no token',
      'bad token signature',
      'bad token signature',
    ]);
  });
});

describe('verifying upstream: DPoP', () => {
  it('accepts a good proof once; the same proof again is a replay', async () => {
    orders.reset();
    const p = await proof();
    expect((await dpopCall(p)).status).toBe(200);
    const again = await dpopCall(p);
    expect(again.status).toBe(401);
    expect(again.challenge).toBe('DPoP error="invalid_dpop_proof", error_description="replayed jti"');
    expect(orders.accepted()[0]).toMatchObject({ scheme: 'DPoP', sub: 'alice', jkt: expect.any(String) });
  });

  it('refuses forged, stale and mismatched proofs, and a stolen token used with another key', async () => {
    orders.reset();
    const thief = await client.randomDPoPKeyPair('ES256');
    const cases: Array<[string, Promise<string>, string?, string?]> = [
      // Signed by the thief but claiming the holder's key in its header.
      ['bad proof signature', proof({ privateKey: thief.privateKey, headerKey: bound.keys.publicKey })],
      [
        'proof key does not match cnf.jkt',
        proof({ privateKey: thief.privateKey, publicKey: thief.publicKey }),
      ],
      ['proof typ is not dpop+jwt', proof({ typ: 'JWT' })],
      ['htm mismatch', proof({ htm: 'POST' })],
      ['htu mismatch', proof({ htu: `${orders.url}/v1/other` })],
      ['htu mismatch', proof({ htu: `${billing.url}/v1/items` })],
      ['ath mismatch', proof({ token: bearer.orders })],
      ['ath mismatch', proof({ token: undefined })],
      ['iat not fresh', proof({ iat: Math.floor(Date.now() / 1000) - 600 })],
      ['iat not fresh', proof({ iat: Math.floor(Date.now() / 1000) + 600 })],
    ];
    for (const [reason, p] of cases) {
      const res = await dpopCall(await p);
      expect([res.status, res.challenge], reason).toEqual([
        401,
        `DPoP error="invalid_dpop_proof", error_description="${reason}"`,
      ]);
    }
    expect((await call(orders, { authorization: `DPoP ${bound.token}` })).challenge).toContain(
      'no DPoP proof',
    );
    // A bound token without its proof, as Bearer: refused.
    expect((await call(orders, { authorization: `Bearer ${bound.token}` })).challenge).toContain(
      'DPoP-bound token sent as Bearer',
    );
    expect(orders.accepted()).toEqual([]);
    // A proof refused for another reason does not burn its jti: the good one still passes.
    const jti = 'kept-jti';
    expect((await dpopCall(await proof({ jti, htm: 'POST' }))).status).toBe(401);
    expect((await dpopCall(await proof({ jti }))).status).toBe(200);
  });

  it('demands a nonce when told to, then accepts the proof carrying it', async () => {
    orders.setRequireNonce(true);
    try {
      const first = await dpopCall(await proof());
      expect(first.status).toBe(401);
      expect(first.challenge).toBe('DPoP error="use_dpop_nonce", error_description="nonce required"');
      expect(first.nonce).toBe(orders.nonce());
      expect((await dpopCall(await proof({ nonce: 'stale' }))).status).toBe(401);
      expect((await dpopCall(await proof({ nonce: first.nonce! }))).status).toBe(200);
    } finally {
      orders.setRequireNonce(false);
    }
  });

  it('checks WebSocket upgrades the same way (htm GET, htu the http URL)', async () => {
    orders.reset();
    const open = (p: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${orders.port}/v1/items`, {
          headers: { authorization: `DPoP ${bound.token}`, dpop: p },
        });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => undefined);
      });
    expect(await open(await proof())).toBe(101);
    expect(await open(await proof({ htm: 'POST' }))).toBe(401);
    expect(orders.received.map((r) => [r.upgrade, r.status, r.reason])).toEqual([
      [true, 101, undefined],
      [true, 401, 'htm mismatch'],
    ]);
  });
});
