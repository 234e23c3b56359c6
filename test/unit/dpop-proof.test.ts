/** The upstream DPoP proofs (proxy/dpop-proof.ts) and the IdP side's switch (oidc/dpop.ts), without servers. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../../src/config/types.js';
import { IdpDpop } from '../../src/oidc/dpop.js';
import { DpopProofs, isUseDpopNonce, UpstreamDpop } from '../../src/proxy/dpop-proof.js';
import { dpopJwk, dpopPrivateKey } from '../../src/session/records/dpop-key.js';
import type { SessionRecord } from '../../src/session/records/record.js';
import { decodeRecord, encodeRecord } from '../../src/session/records/record-codec.js';
import type { LoadedSession } from '../../src/session/records/session-records.js';

/** A key as node makes it: the stored scalar, and the whole JWK to check against. */
function nodeKey(): { stored: string; jwk: { x: string; y: string } } {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { stored: jwk.d!, jwk: { x: jwk.x!, y: jwk.y! } };
}

const newKey = () => nodeKey().stored;

const ORIGIN = 'http://orders.internal:8080';

async function verified(proof: string) {
  return jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
}

describe('DpopProofs', () => {
  it('signs a proof with the key: typ, alg, public jwk only; htm, htu without query, ath, iat, jti', async () => {
    const { stored, jwk: key } = nodeKey();
    const proofs = new DpopProofs();
    const binding = proofs.bind(stored, 'the-token');
    const proof = proofs.proof(binding, 'POST', ORIGIN, '/v1/orders?page=2#x');
    const { payload, protectedHeader } = await verified(proof);
    expect(protectedHeader).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: { kty: 'EC', crv: 'P-256', x: key.x, y: key.y },
    });
    expect(payload).toEqual({
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      htm: 'POST',
      htu: `${ORIGIN}/v1/orders`,
      iat: expect.any(Number),
      ath: createHash('sha256').update('the-token').digest('base64url'),
    });
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(2);
    expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(
      await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: key.x, y: key.y }),
    );
  });

  it('makes a fresh proof each time, and keeps each binding on its own token', async () => {
    const proofs = new DpopProofs();
    const key = newKey();
    const a = proofs.bind(key, 'token-a');
    const b = proofs.bind(key, 'token-b'); // the same key, another token, before a is used
    expect(b.signer).toBe(a.signer); // imported once
    const [p1, p2, p3] = [a, a, b].map((binding) => proofs.proof(binding, 'GET', ORIGIN, '/'));
    const jtis = await Promise.all([p1!, p2!, p3!].map(async (p) => (await verified(p)).payload.jti));
    expect(new Set(jtis).size).toBe(3);
    expect((await verified(p1!)).payload.ath).toBe(
      createHash('sha256').update('token-a').digest('base64url'),
    );
    expect((await verified(p3!)).payload.ath).toBe(
      createHash('sha256').update('token-b').digest('base64url'),
    );
  });

  it("carries the origin's latest nonce, and only to that origin", async () => {
    const proofs = new DpopProofs();
    const binding = proofs.bind(newKey(), 't');
    proofs.learnNonce(ORIGIN, 'n-1');
    proofs.learnNonce(ORIGIN, 'n-2');
    expect((await verified(proofs.proof(binding, 'GET', ORIGIN, '/a'))).payload.nonce).toBe('n-2');
    const other = proofs.proof(binding, 'GET', 'http://billing.internal', '/a');
    expect((await verified(other)).payload.nonce).toBeUndefined();
    expect(decodeProtectedHeader(other).jwk).not.toHaveProperty('d');
  });
});

describe('isUseDpopNonce', () => {
  it.each([
    ['DPoP error="use_dpop_nonce", error_description="nonce required"', true],
    ['Bearer realm="x", DPoP error=use_dpop_nonce', true],
    ['dpop algs="ES256", error="use_dpop_nonce"', true],
    ['Bearer error="use_dpop_nonce"', false],
    ['DPoP error="invalid_token"', false],
    [undefined, false],
  ])('%s -> %s', (header, expected) => {
    expect(isUseDpopNonce(header)).toBe(expected);
  });
});

describe('UpstreamDpop', () => {
  const user = { token: 'user' } as RouteConfig;
  const client = { token: 'client' } as RouteConfig;
  const session = (record: Partial<SessionRecord>, tokenType: string): LoadedSession =>
    ({ sid: 's', record: { ...record, tokens: { tokenType } } }) as unknown as LoadedSession;

  it("binds DPoP-typed session tokens to the session's key; Bearer ones stay Bearer", () => {
    const gatewayKey = newKey();
    const sessionKey = newKey();
    const dpop = new UpstreamDpop(new DpopProofs(), gatewayKey, () => false);
    expect(dpop.binding(user, session({ dpopKey: sessionKey }, 'DPoP'), 't')).toBeDefined();
    expect(dpop.binding(user, session({ dpopKey: sessionKey }, 'Bearer'), 't')).toBeUndefined();
    expect(dpop.binding(user, session({}, 'DPoP'), 't')).toBeUndefined();
    expect(dpop.binding(user, undefined, 't')).toBeUndefined();
  });

  it("binds client-credentials tokens to the gateway's key when the IdP bound them", () => {
    const gatewayKey = newKey();
    const bound = new Set(['bound']);
    const dpop = new UpstreamDpop(new DpopProofs(), gatewayKey, (t) => bound.has(t));
    const binding = dpop.binding(client, undefined, 'bound');
    expect(decodeProtectedHeader(binding!.proofs.proof(binding!, 'GET', ORIGIN, '/')).jwk).toMatchObject({
      x: dpopJwk(gatewayKey).x,
    });
    expect(dpop.binding(client, undefined, 'unbound')).toBeUndefined();
  });
});

describe('IdpDpop', () => {
  const noConfiguration = () => {
    throw new Error('not discovered');
  };

  it('without OIDC_DPOP: no key, no handle, nothing asked of openid-client', async () => {
    const off = new IdpDpop(false, noConfiguration);
    expect(off.gatewayKey).toBeUndefined();
    expect(off.newSessionKey()).toBeUndefined();
    expect(await off.forSession(newKey())).toEqual({});
    expect(await off.forGateway()).toEqual({});
  });

  it('with it: a gateway key per process and a new key per session', () => {
    const on = new IdpDpop(true, noConfiguration);
    const a = on.newSessionKey()!;
    expect(a).toMatch(/^[\w-]{43}$/);
    expect(on.newSessionKey()).not.toBe(a);
    expect(on.gatewayKey).not.toBe(a);
  });
});

describe('the stored key (session/records/dpop-key.ts)', () => {
  it("gives back node's own public point from the scalar alone", () => {
    for (let i = 0; i < 20; i++) {
      const { stored, jwk } = nodeKey();
      expect(dpopJwk(stored)).toEqual({ kty: 'EC', crv: 'P-256', ...jwk, d: stored });
    }
  });

  it('is kept by the record codec as it is, for about 60 bytes', () => {
    const record: SessionRecord = {
      sub: 'alice',
      idpSid: undefined,
      claims: { email: 'alice@example.com' },
      tokens: {
        accessToken: 'at',
        refreshToken: 'rt',
        idToken: undefined,
        tokenType: 'DPoP',
        scope: 'openid',
      },
      accessTokenExpiresAt: 2,
      accessTokenIssuedAt: 1,
      createdAt: 1,
      absoluteExpiresAt: 3,
      idleExpiresAt: 3,
    };
    const withKey = { ...record, dpopKey: newKey() };
    expect(decodeRecord(encodeRecord(withKey))).toEqual(withKey);
    expect(encodeRecord(withKey).length - encodeRecord(record).length).toBeLessThan(70);
  });

  it('refuses a value that is not a P-256 scalar', () => {
    expect(() => dpopPrivateKey('c2hvcnQ')).toThrow(/32-byte/);
  });
});
