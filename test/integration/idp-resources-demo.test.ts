/**
 * The demo's two APIs (src/dev/api.ts: orders and billing, each its own audience) against the IdP:
 * each accepts only its own token, says which token it received (GET /token), and checks DPoP proofs.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoApi, type DemoApi } from '../../src/dev/api.js';
import { idpClient, type IdpClientHandle } from '../helpers/idp-client.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { signDpopProof } from '../helpers/verifying-upstream-checks.js';

const API = 'urn:bff-demo:api';
const BILLING = 'urn:bff-demo:billing';
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

let idp: TestIdp;
let rp: IdpClientHandle;
let orders: DemoApi;
let billing: DemoApi;
beforeAll(async () => {
  idp = await startIdp({ jwtAccessTokens: { audience: API }, resources: [BILLING] });
  rp = await idpClient(idp);
  const common = { host: '127.0.0.1', port: 0, issuer: idp.issuer, log: quiet };
  orders = await startDemoApi({ ...common, audience: API });
  billing = await startDemoApi({ ...common, audience: BILLING, api: 'billing' });
});
afterAll(async () => {
  await Promise.all([orders?.stop(), billing?.stop(), idp?.stop()]);
});

async function get(api: DemoApi, path: string, headers: Record<string, string>) {
  const res = await fetch(`${api.url}${path}`, { headers });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    challenge: res.headers.get('www-authenticate'),
  };
}

describe('the demo APIs', () => {
  it('each takes only the token for its own audience and says which one it got', async () => {
    const tokens = await rp.signIn({ resources: [BILLING] });
    const own = await client.refreshTokenGrant(rp.config, tokens.refresh_token!, { resource: BILLING });
    const session = { authorization: `Bearer ${tokens.access_token}` };
    const billingToken = { authorization: `Bearer ${own.access_token}` };

    expect((await get(orders, '/token', session)).body).toMatchObject({
      api: 'orders',
      aud: API,
      scheme: 'Bearer',
    });
    const invoices = await get(billing, '/invoices', billingToken);
    expect(invoices.status).toBe(200);
    expect(invoices.body.token).toMatchObject({ api: 'billing', aud: BILLING, sub: 'alice' });
    expect((await get(billing, '/token', session)).status).toBe(401);
    expect((await get(orders, '/orders', billingToken)).status).toBe(401);
    // The answers name the token, never carry it.
    expect(JSON.stringify(invoices.body)).not.toContain(own.access_token);
  });

  it('a DPoP-bound token needs a fresh proof by its key, once', async () => {
    const { keyPair, handle } = await rp.dpopKey();
    const tokens = await rp.signIn({ resources: [BILLING], dpop: handle });
    const own = await client.refreshTokenGrant(
      rp.config,
      tokens.refresh_token!,
      { resource: BILLING },
      { DPoP: handle },
    );
    const proof = await signDpopProof({
      ...keyPair,
      htm: 'GET',
      htu: `${billing.url}/token`,
      token: own.access_token,
    });
    const headers = { authorization: `DPoP ${own.access_token}`, dpop: proof };
    const ok = await get(billing, '/token', headers);
    expect(ok.body).toMatchObject({ api: 'billing', aud: BILLING, scheme: 'DPoP', jkt: expect.any(String) });
    const replay = await get(billing, '/token', headers);
    expect([replay.status, replay.challenge]).toEqual([
      401,
      'DPoP error="invalid_dpop_proof", error_description="replayed jti"',
    ]);
    const asBearer = await get(billing, '/token', { authorization: `Bearer ${own.access_token}` });
    expect(asBearer.challenge).toBe(
      'Bearer error="invalid_token", error_description="DPoP-bound token sent as Bearer"',
    );
    const thief = await client.randomDPoPKeyPair('ES256');
    const stolen = await signDpopProof({
      ...thief,
      htm: 'GET',
      htu: `${billing.url}/token`,
      token: own.access_token,
    });
    expect(
      (await get(billing, '/token', { authorization: `DPoP ${own.access_token}`, dpop: stolen })).status,
    ).toBe(401);
  });
});
