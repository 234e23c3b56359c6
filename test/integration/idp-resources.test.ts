/**
 * The test IdP's APIs (RFC 8707 resource indicators) and its RFC 8693 token exchange, seen from an
 * openid-client v6 relying party: every token is checked against the IdP's JWKS.
 */
import { createRemoteJWKSet, decodeJwt, generateKeyPair, jwtVerify, SignJWT } from 'jose';
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

async function verified(token: string, audience: string): Promise<Record<string, unknown>> {
  const jwks = createRemoteJWKSet(new URL(idp.url('/jwks')));
  return (await jwtVerify(token, jwks, { issuer: idp.issuer, audience, typ: 'at+jwt' })).payload;
}

function exchange(subject: string, params: Record<string, string>, dpop?: client.DPoPHandle) {
  return client.genericGrantRequest(
    rp.config,
    TOKEN_EXCHANGE,
    { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, ...params },
    dpop ? { DPoP: dpop } : undefined,
  );
}

async function refusal(p: Promise<unknown>): Promise<{ error: string; description: string | undefined }> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as client.ResponseBodyError | undefined;
  expect(err, 'the IdP should have refused').toBeInstanceOf(client.ResponseBodyError);
  return { error: err!.error, description: err!.error_description };
}

describe('per-resource audiences', () => {
  it("the session's token is for the default API; a refresh with resource gets each API its own token", async () => {
    const tokens = await rp.signIn({ resources: [ORDERS, BILLING] });
    expect((await verified(tokens.access_token, API)).aud).toBe(API);
    // The authorization request as the client sent it (the default API is added only inside the IdP).
    expect(idp.lastAuthorizationRequests.at(-1)!.getAll('resource')).toEqual([ORDERS, BILLING]);

    idp.resetCounts();
    const orders = await client.refreshTokenGrant(rp.config, tokens.refresh_token!, { resource: ORDERS });
    const claims = await verified(orders.access_token, ORDERS);
    expect(claims).toMatchObject({
      sub: 'alice',
      aud: ORDERS,
      scope: 'api:read api:write',
      client_id: 'bff',
    });
    const billing = await client.refreshTokenGrant(rp.config, orders.refresh_token!, { resource: BILLING });
    expect((await verified(billing.access_token, BILLING)).aud).toBe(BILLING);
    await expect(verified(billing.access_token, ORDERS)).rejects.toThrow();

    expect(idp.grantCount('refresh_token', ORDERS)).toBe(1);
    expect(idp.grantCount('refresh_token', BILLING)).toBe(1);
    expect(idp.grantCount('refresh_token')).toBe(2);
    expect(idp.counts.grantsByResource).toEqual({
      [`refresh_token ${ORDERS}`]: 1,
      [`refresh_token ${BILLING}`]: 1,
    });
    expect(idp.issued.map((t) => t.requested)).toEqual([ORDERS, BILLING]);

    // Without resource: the default API again.
    const own = await client.refreshTokenGrant(rp.config, billing.refresh_token!);
    expect(decodeJwt(own.access_token).aud).toBe(API);
  });

  it('a resource that was not asked for at sign-in, or is unknown, is refused with invalid_target', async () => {
    const tokens = await rp.signIn({ resources: [ORDERS] });
    idp.resetCounts();
    const notGranted = await refusal(
      client.refreshTokenGrant(rp.config, tokens.refresh_token!, { resource: BILLING }),
    );
    expect(notGranted.error).toBe('invalid_target');
    expect(idp.counts.grants.refresh_token ?? 0).toBe(0);
    expect(idp.issued).toEqual([]);
  });

  it("a user's API scopes cap each API's token (bob: api:read)", async () => {
    const tokens = await rp.signIn({ login: 'bob', resources: [ORDERS] });
    const orders = await client.refreshTokenGrant(rp.config, tokens.refresh_token!, { resource: ORDERS });
    expect((await verified(orders.access_token, ORDERS)).scope).toBe('api:read');
  });

  it('without a default API the session token is opaque and the APIs still get JWTs', async () => {
    const bare = await startIdp({ resources: [ORDERS] });
    try {
      const bareRp = await idpClient(bare);
      const tokens = await bareRp.signIn({ resources: [ORDERS] });
      expect(tokens.access_token.split('.')).toHaveLength(1);
      const orders = await client.refreshTokenGrant(bareRp.config, tokens.refresh_token!, {
        resource: ORDERS,
      });
      expect(decodeJwt(orders.access_token).aud).toBe(ORDERS);
      expect(bare.grantCount('authorization_code', '-')).toBe(1);
      expect(bare.grantCount('refresh_token', ORDERS)).toBe(1);
    } finally {
      await bare.stop();
    }
  });
});

describe('RFC 8693 token exchange', () => {
  it("trades the user's access token for a token of another API", async () => {
    const tokens = await rp.signIn({});
    idp.resetCounts();
    const out = await exchange(tokens.access_token, { audience: BILLING, scope: 'api:read' });
    expect(out.issued_token_type).toBe(ACCESS_TOKEN_TYPE);
    expect(out.token_type.toLowerCase()).toBe('bearer');
    expect(await verified(out.access_token, BILLING)).toMatchObject({ sub: 'alice', scope: 'api:read' });
    expect(idp.grantCount(TOKEN_EXCHANGE, BILLING)).toBe(1);
    expect(idp.counts.grants[TOKEN_EXCHANGE]).toBe(1);
  });

  it('refuses forged, unknown-audience, over-scoped and policy-refused exchanges', async () => {
    const alice = await rp.signIn({});
    const bob = await rp.signIn({ login: 'bob' });
    idp.resetCounts();
    // Signed by another key with the IdP's kid: the signature check must refuse it.
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const claims = decodeJwt(alice.access_token);
    const forged = await new SignJWT({ ...claims, sub: 'mallory' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'test-rs256' })
      .sign(privateKey);
    expect(await refusal(exchange(forged, { audience: BILLING }))).toMatchObject({ error: 'invalid_grant' });
    expect((await refusal(exchange('not-a-token', { audience: BILLING }))).error).toBe('invalid_grant');
    expect((await refusal(exchange(alice.access_token, { audience: 'https://evil.example' }))).error).toBe(
      'invalid_target',
    );
    expect((await refusal(exchange(bob.access_token, { audience: BILLING, scope: 'api:write' }))).error).toBe(
      'invalid_scope',
    );
    idp.setExchangePolicy((r) =>
      r.sub === 'alice' && r.audience === BILLING ? 'alice may not use billing' : undefined,
    );
    try {
      expect(await refusal(exchange(alice.access_token, { audience: BILLING }))).toEqual({
        error: 'invalid_grant',
        description: 'alice may not use billing',
      });
      expect(decodeJwt((await exchange(alice.access_token, { audience: ORDERS })).access_token).aud).toBe(
        ORDERS,
      );
    } finally {
      idp.setExchangePolicy(undefined);
    }
    expect(idp.counts.grantErrors[TOKEN_EXCHANGE]).toBe(5);
    expect(idp.grantCount(TOKEN_EXCHANGE)).toBe(1);
  });

  it('exchanges an opaque subject token until its grant is revoked; refuses actor_token', async () => {
    const bare = await startIdp({ resources: [ORDERS] });
    try {
      const bareRp = await idpClient(bare);
      const tokens = await bareRp.signIn({});
      const trade = (extra: Record<string, string> = {}) =>
        client.genericGrantRequest(bareRp.config, TOKEN_EXCHANGE, {
          subject_token: tokens.access_token,
          subject_token_type: ACCESS_TOKEN_TYPE,
          audience: ORDERS,
          ...extra,
        });
      expect(decodeJwt((await trade()).access_token)).toMatchObject({ aud: ORDERS, sub: 'alice' });
      expect(
        await refusal(trade({ actor_token: tokens.access_token, actor_token_type: ACCESS_TOKEN_TYPE })),
      ).toEqual({ error: 'invalid_request', description: 'actor_token is not supported' });
      await client.tokenRevocation(bareRp.config, tokens.refresh_token!, {
        token_type_hint: 'refresh_token',
      });
      expect(await refusal(trade())).toEqual({
        error: 'invalid_grant',
        description: 'subject token invalid or expired',
      });
    } finally {
      await bare.stop();
    }
  });

  it("refuses another client's subject token", async () => {
    const other = {
      client_id: 'other',
      client_secret: 'other-secret-0123456789abcdef0123456789',
      token_endpoint_auth_method: 'client_secret_basic' as const,
      redirect_uris: ['http://localhost:3001/auth/callback'],
    };
    idp.addClient(other);
    const otherRp = await idpClient(idp, other);
    const theirs = await otherRp.signIn({});
    const res = await refusal(exchange(theirs.access_token, { audience: BILLING }));
    expect(res).toEqual({
      error: 'invalid_grant',
      description: 'subject token was issued to another client',
    });
  });
});
