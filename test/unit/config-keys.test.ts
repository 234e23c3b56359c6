/** loadConfig: ID-token algorithms, the client key and the login rate limit (split from the former config.test.ts by section). */
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { describe, it, expect } from 'vitest';

import { calculateJwkThumbprint, exportJWK } from 'jose';
import { allowedIdTokenAlgs } from '../../src/oidc/id-token.js';
import { BASE, load, errorOf, tempDir, writeTemp } from '../helpers/config.js';

describe('ID-token algorithms and the client key (issue 9)', () => {
  it('OIDC_ID_TOKEN_ALGS: a comma-separated list, deduplicated; unset by default', () => {
    expect(load().oidc.idTokenAlgs).toBeUndefined();
    expect(load({ OIDC_ID_TOKEN_ALGS: ' PS256, ES256,PS256 ' }).oidc.idTokenAlgs).toEqual(['PS256', 'ES256']);
  });

  it('oidc.idTokenAlgs from the file, as a list', () => {
    const file = writeTemp('algs.yaml', 'oidc:\n  idTokenAlgs: [RS256, EdDSA]\n');
    expect(load({ BFF_CONFIG: file }).oidc.idTokenAlgs).toEqual(['RS256', 'EdDSA']);
  });

  it('the default allowed algorithms are what the IdP advertises without none and HS*, else RS256', () => {
    expect(allowedIdTokenAlgs(undefined, ['none', 'HS256', 'HS512', 'RS256', 'ES256'])).toEqual([
      'RS256',
      'ES256',
    ]);
    expect(allowedIdTokenAlgs(undefined, undefined)).toEqual(['RS256']);
    expect(allowedIdTokenAlgs(['PS256'], ['RS256'])).toEqual(['PS256']);
  });

  function keyFile(name: string, text: string): string {
    return writeTemp(name, text);
  }

  it('a key makes private_key_jwt the default; alg follows the key; kid from the JWK, the env, or the thumbprint', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = keyFile('rsa.pem', rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const viaPem = load({ OIDC_CLIENT_SECRET: undefined, OIDC_CLIENT_PRIVATE_KEY: pem }).oidc;
    expect(viaPem.clientAuth).toBe('private_key_jwt');
    expect(viaPem.clientPrivateKey?.alg).toBe('RS256');
    expect(viaPem.clientPrivateKey?.kid).toBe(await calculateJwkThumbprint(await exportJWK(rsa.publicKey)));
    // The key object's material stays out of JSON (and so out of any log of the config).
    expect(JSON.stringify(viaPem)).not.toContain('PRIVATE');
    expect(JSON.stringify(viaPem)).not.toContain(String(rsa.privateKey.export({ format: 'jwk' }).d));

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = keyFile('ec.jwk', JSON.stringify({ ...ec.privateKey.export({ format: 'jwk' }), kid: 'k1' }));
    expect(load({ OIDC_CLIENT_PRIVATE_KEY: jwk }).oidc.clientPrivateKey).toMatchObject({
      alg: 'ES256',
      kid: 'k1',
    });
    expect(load({ OIDC_CLIENT_PRIVATE_KEY: jwk, OIDC_CLIENT_KEY_ID: 'k2' }).oidc.clientPrivateKey?.kid).toBe(
      'k2',
    );

    const ed = generateKeyPairSync('ed25519');
    const edPem = keyFile('ed.pem', ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    expect(load({ OIDC_CLIENT_PRIVATE_KEY: edPem }).oidc.clientPrivateKey?.alg).toBe('EdDSA');

    // PS256: an RSA JWK that says so (an RSASSA-PSS-only PEM is refused with that hint, below).
    const psJwk = keyFile(
      'ps.jwk',
      JSON.stringify({ ...rsa.privateKey.export({ format: 'jwk' }), alg: 'PS256' }),
    );
    expect(load({ OIDC_CLIENT_PRIVATE_KEY: psJwk }).oidc.clientPrivateKey?.alg).toBe('PS256');

    // An explicit secret method keeps the secret even with a key configured.
    expect(
      load({ OIDC_CLIENT_PRIVATE_KEY: pem, OIDC_CLIENT_AUTH: 'client_secret_basic' }).oidc,
    ).toMatchObject({
      clientAuth: 'client_secret_basic',
      clientPrivateKey: undefined,
    });
  });

  it.each([
    ['a missing file', () => path.join(tempDir(), 'nope.pem'), /cannot be read \(ENOENT\)/],
    ['garbage', () => writeTemp('junk.pem', 'not a key'), /does not hold a private key/],
    [
      'a public key',
      () =>
        writeTemp(
          'pub.pem',
          generateKeyPairSync('ec', { namedCurve: 'P-256' })
            .publicKey.export({ format: 'pem', type: 'spki' })
            .toString(),
        ),
      /does not hold a private key/,
    ],
    ['a broken JWK', () => writeTemp('bad.jwk', '{"kty":'), /not a valid JWK/],
    [
      'an RSASSA-PSS-only PEM',
      () =>
        writeTemp(
          'pss.pem',
          generateKeyPairSync('rsa-pss', { modulusLength: 2048 })
            .privateKey.export({ format: 'pem', type: 'pkcs8' })
            .toString(),
        ),
      /"alg": "PS256"/,
    ],
    [
      'a JWK whose alg does not fit',
      () =>
        writeTemp(
          'rs.jwk',
          JSON.stringify({
            ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
            alg: 'ES256',
          }),
        ),
      /does not fit/,
    ],
  ])('a key file holding %s stops start-up naming OIDC_CLIENT_PRIVATE_KEY', (_name, file, pattern) => {
    const error = errorOf({ ...BASE, OIDC_CLIENT_PRIVATE_KEY: file() });
    expect(error.variable).toBe('OIDC_CLIENT_PRIVATE_KEY');
    expect(error.message).toMatch(/^OIDC_CLIENT_PRIVATE_KEY /);
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain('\n');
  });
});

describe('RATE_LIMIT_LOGIN (issue 9)', () => {
  it('60 by default; a whole number; 0 turns it off', () => {
    expect(load().rateLimit.login).toBe(60);
    expect(load({ RATE_LIMIT_LOGIN: ' 120 ' }).rateLimit.login).toBe(120);
    expect(load({ RATE_LIMIT_LOGIN: '0' }).rateLimit.login).toBe(0);
  });

  it('rateLimit.login from the file; the env wins', () => {
    const file = writeTemp('limit.yaml', 'rateLimit:\n  login: 10\n');
    expect(load({ BFF_CONFIG: file }).rateLimit.login).toBe(10);
    expect(load({ BFF_CONFIG: file, RATE_LIMIT_LOGIN: '7' }).rateLimit.login).toBe(7);
  });

  it.each(['-1', '1.5', 'ten', '60/min', '1e3', '2000000'])(
    '%s stops start-up naming RATE_LIMIT_LOGIN',
    (value) => {
      const error = errorOf({ ...BASE, RATE_LIMIT_LOGIN: value });
      expect(error.variable).toBe('RATE_LIMIT_LOGIN');
      expect(error.message).toMatch(/^RATE_LIMIT_LOGIN must be a whole number of requests per minute/);
    },
  );

  it('a bad file value names the variable and the file key; an unknown key under rateLimit is refused', () => {
    const bad = writeTemp('bad-limit.yaml', 'rateLimit:\n  login: -5\n');
    const error = errorOf({ ...BASE, BFF_CONFIG: bad });
    expect(error.variable).toBe('RATE_LIMIT_LOGIN');
    expect(error.fileKey).toBe('rateLimit.login');
    expect(error.message).toContain('rateLimit.login in');
    const typo = writeTemp('typo-limit.yaml', 'rateLimit:\n  logins: 5\n');
    expect(errorOf({ ...BASE, BFF_CONFIG: typo }).message).toContain('unknown key rateLimit.logins');
  });
});
