/** The test IdP with DPoP (RFC 9449): bound tokens per API, bound token exchange, nonces, required DPoP. */
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idpClient, type IdpClientHandle } from '../helpers/idp-client.js';
import { ACCESS_TOKEN_TYPE, startIdp, TOKEN_EXCHANGE, type TestIdp } from '../helpers/idp.js';

const API = 'https://api.example';
const ORDERS = 'https://orders.example';
const BILLING = 'https://billing.example';

let idp: TestIdp;
let rp: IdpClientHandle;
beforeAll(async () => {
  idp = await startIdp({ jwtAccessTokens: { audience: API }, resources: [ORDERS, BILLING] });
  rp = await idpClient(idp);
});
afterAll(async () => {
  await idp?.stop();
});

async function thumbprint(keyPair: client.CryptoKeyPair): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
}

function exchange(subject: string, dpop?: client.DPoPHandle) {
  return client.genericGrantRequest(
    rp.config,
    TOKEN_EXCHANGE,
    { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, audience: BILLING },
    dpop ? { DPoP: dpop } : undefined,
  );
}

async function errorOf(p: Promise<unknown>): Promise<client.ResponseBodyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(client.ResponseBodyError);
  return err as client.ResponseBodyError;
}

describe('DPoP at the test IdP', () => {
  it("binds the session's and each API's tokens to the proof key (cnf.jkt) and counts them", async () => {
    const { keyPair, handle } = await rp.dpopKey();
    const jkt = await thumbprint(keyPair);
    idp.resetCounts();
    const tokens = await rp.signIn({ resources: [ORDERS], dpop: handle });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });
    const orders = await client.refreshTokenGrant(
      rp.config,
      tokens.refresh_token!,
      { resource: ORDERS },
      { DPoP: handle },
    );
    expect(decodeJwt(orders.access_token)).toMatchObject({ aud: ORDERS, cnf: { jkt } });
    expect(idp.counts.dpopGrants).toBe(2);
    expect(idp.issued.map((t) => [t.grantType, t.tokenType, t.jkt])).toEqual([
      ['authorization_code', 'DPoP', jkt],
      ['refresh_token', 'DPoP', jkt],
    ]);
  });

  it('exchanges a DPoP-bound subject token only for the holder of its key', async () => {
    const { keyPair, handle } = await rp.dpopKey();
    const tokens = await rp.signIn({ dpop: handle });
    idp.resetCounts();
    const bare = await errorOf(exchange(tokens.access_token));
    expect([bare.error, bare.error_description]).toEqual([
      'invalid_grant',
      'subject token is DPoP-bound to another key',
    ]);
    const thief = await rp.dpopKey();
    expect((await errorOf(exchange(tokens.access_token, thief.handle))).error).toBe('invalid_grant');
    const out = await exchange(tokens.access_token, handle);
    expect(out.token_type.toLowerCase()).toBe('dpop');
    expect(decodeJwt(out.access_token)).toMatchObject({
      aud: BILLING,
      sub: 'alice',
      cnf: { jkt: await thumbprint(keyPair) },
    });
    expect(idp.grantCount(TOKEN_EXCHANGE, BILLING)).toBe(1);
    expect(idp.counts.grantErrors[TOKEN_EXCHANGE]).toBe(2);
  });

  it('demands a nonce when told to (use_dpop_nonce); openid-client retries once with it', async () => {
    const { handle } = await rp.dpopKey();
    const tokens = await rp.signIn({ dpop: handle });
    idp.setDpopNonce(true);
    try {
      idp.resetCounts();
      const fresh = await rp.dpopKey();
      const ok = await client.refreshTokenGrant(rp.config, tokens.refresh_token!, {}, { DPoP: fresh.handle });
      expect(ok.token_type.toLowerCase()).toBe('dpop');
      expect(idp.events.map((e) => [e.name, e.error])).toEqual([
        ['grant.error', 'use_dpop_nonce'],
        ['grant.success', undefined],
      ]);
    } finally {
      idp.setDpopNonce(false);
    }
  });

  it('refuses a token request without a proof from a client registered with dpop_bound_access_tokens', async () => {
    const bound = {
      client_id: 'bound',
      client_secret: 'bound-secret-0123456789abcdef0123456789',
      token_endpoint_auth_method: 'client_secret_basic' as const,
      redirect_uris: ['http://localhost:3002/auth/callback'],
      dpop_bound_access_tokens: true,
    };
    idp.addClient(bound);
    const boundRp = await idpClient(idp, bound);
    const err = await errorOf(boundRp.signIn({}));
    expect(err.error).toBe('invalid_grant');
    const { handle } = await boundRp.dpopKey();
    expect((await boundRp.signIn({ dpop: handle })).token_type.toLowerCase()).toBe('dpop');
  });
});
