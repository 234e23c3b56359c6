/**
 * Issue 9, item 3 and deliverable 3: how the gateway authenticates itself at the IdP.
 *
 * - client_secret_basic with an id and secret holding `-._*`: the Basic credentials carry them as
 *   they are (WHATWG form serializer), so IdPs that do not URL-decode Basic credentials work too.
 * - private_key_jwt (RFC 7523): login, refresh, client-credentials and revocation each send a fresh
 *   assertion signed with the configured key, which the real oidc-provider verifies.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { startIdp, type IdpClient, type TestIdp } from '../helpers/idp.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway } from '../helpers/process.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let idp: TestIdp;
let upstream: Upstream;
const stacks: Stack[] = [];
beforeAll(async () => {
  idp = await startIdp({ clients: [] });
  upstream = await startUpstream();
});
afterAll(async () => {
  for (const stack of stacks) await stack.stop();
  await upstream?.stop();
  await idp?.stop();
});

/** A gateway on the shared IdP, whose own client (`client`, minus its redirect URIs) is registered there. */
async function gatewayFor(
  client: Omit<IdpClient, 'redirect_uris'>,
  env: Record<string, string>,
): Promise<Stack> {
  const stack = await startStack({
    sharedIdp: idp,
    env: { OIDC_CLIENT_ID: client.client_id, ...env },
    routes: [
      { prefix: '/api', target: upstream.url, token: 'user' },
      { prefix: '/svc', target: upstream.url, token: 'client', scopes: ['api:read'] },
    ],
  });
  stacks.push(stack);
  idp.addClient({
    ...client,
    redirect_uris: [`${stack.baseUrl}/auth/callback`],
    post_logout_redirect_uris: [`${stack.baseUrl}/`],
  });
  return stack;
}

/** Login (code exchange), refresh, client credentials and logout (revocation): each must succeed. */
async function everyClientAuthenticatedCall(stack: Stack): Promise<void> {
  idp.resetCounts();
  const alice = await signIn(stack);
  await alice.expireAccessToken();
  expect((await alice.api('/api/after-refresh')).status).toBe(200);
  expect((await alice.api('/svc/service-call')).status).toBe(200);
  const logout = await alice.api('/auth/logout', { method: 'POST' });
  expect(logout.status).toBe(200);
  await expect.poll(() => idp.counts.revocations).toBe(1);
  expect(idp.counts.grants).toMatchObject({ authorization_code: 1, refresh_token: 1, client_credentials: 1 });
  expect(idp.counts.grantErrors).toEqual({});
}

describe('client_secret_basic with -._* in the id and secret', () => {
  const CLIENT_ID = 'bff-gateway.v1_a*b';
  const SECRET = 'S3cret-with.dots_and*stars';

  it('the Basic user and password arrive exactly as registered, not percent-encoded; every call works', async () => {
    const stack = await gatewayFor(
      { client_id: CLIENT_ID, client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' },
      { OIDC_CLIENT_SECRET: SECRET, OIDC_CLIENT_AUTH: 'client_secret_basic' },
    );
    await everyClientAuthenticatedCall(stack);
    // What an IdP that does not URL-decode Basic credentials (LemonLDAP::NG, Glewlwyd) compares.
    expect(idp.basicUsers.length).toBeGreaterThanOrEqual(4);
    expect(new Set(idp.basicUsers)).toEqual(new Set([CLIENT_ID]));
  });
});

interface KeyCase {
  /** What goes into the file. */
  file: (dir: string) => Promise<{ path: string; publicJwk: JWK }>;
  alg: string;
  /** The kid the assertions must carry (undefined: the RFC 7638 thumbprint). */
  kid?: string;
}

function keyFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

const KEY_CASES: Record<string, KeyCase> = {
  'RSA, PEM (PKCS#8), kid from OIDC_CLIENT_KEY_ID': {
    alg: 'RS256',
    kid: 'gateway-key-1',
    file: async (dir) => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      return { path: keyFile(dir, 'rsa.pem', pem), publicJwk: await exportJWK(publicKey) };
    },
  },
  'EC P-256, JWK with its own kid': {
    alg: 'ES256',
    kid: 'ec-jwk-kid',
    file: async (dir) => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'ec-jwk-kid' };
      return { path: keyFile(dir, 'ec.jwk', JSON.stringify(jwk)), publicJwk: await exportJWK(publicKey) };
    },
  },
  'RSA, JWK saying PS256': {
    alg: 'PS256',
    file: async (dir) => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'PS256' };
      return { path: keyFile(dir, 'ps.jwk', JSON.stringify(jwk)), publicJwk: await exportJWK(publicKey) };
    },
  },
  'Ed25519, PEM, kid = thumbprint': {
    alg: 'EdDSA',
    file: async (dir) => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      return { path: keyFile(dir, 'ed.pem', pem), publicJwk: await exportJWK(publicKey) };
    },
  },
};

describe('private_key_jwt', () => {
  let n = 0;
  for (const [name, keyCase] of Object.entries(KEY_CASES)) {
    it(`${name}: login, refresh, client credentials and revocation each send a fresh assertion`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'bff-client-key-'));
      const { path: keyPath, publicJwk } = await keyCase.file(dir);
      const kid = keyCase.kid ?? (await calculateJwkThumbprint(publicJwk));
      const clientId = `bff-pkjwt-${++n}`;
      const stack = await gatewayFor(
        {
          client_id: clientId,
          client_secret: 'unused-by-private-key-jwt-0123456789',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...publicJwk, kid }] },
        },
        {
          // No OIDC_CLIENT_AUTH and no secret: a configured key makes private_key_jwt the default.
          OIDC_CLIENT_SECRET: '',
          OIDC_CLIENT_PRIVATE_KEY: keyPath,
          ...(name.includes('OIDC_CLIENT_KEY_ID') ? { OIDC_CLIENT_KEY_ID: kid } : {}),
        },
      );
      expect(stack.config.oidc.clientAuth).toBe('private_key_jwt');

      await everyClientAuthenticatedCall(stack);

      const assertions = idp.clientAssertions;
      expect(assertions.map((a) => a.path).sort()).toEqual(
        ['/token', '/token', '/token', '/token/revocation'].sort(),
      );
      expect(idp.basicUsers).toEqual([]);
      const jtis = new Set<unknown>();
      for (const { assertion } of assertions) {
        expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: keyCase.alg, kid });
        const claims = decodeJwt(assertion);
        expect(claims).toMatchObject({ iss: clientId, sub: clientId, aud: idp.issuer });
        expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
        jtis.add(claims.jti);
      }
      expect(jtis.size).toBe(assertions.length);
      // The key never reaches a log line.
      expect(stack.logs.text()).not.toMatch(/PRIVATE KEY|"d":/);
    });
  }
});

describe('a private key that cannot be used stops start-up', () => {
  it.each([
    ['a missing file', (dir: string) => path.join(dir, 'missing.pem')],
    [
      'a file that holds no key',
      (dir: string) => keyFile(dir, 'junk.pem', '-----BEGIN PRIVATE KEY-----\nnope\n'),
    ],
  ])('%s: exit 1, one line naming OIDC_CLIENT_PRIVATE_KEY, no port opened', async (_name, file) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bff-client-key-'));
    const proc = spawnGateway({
      PORT: String(await freePort()),
      OIDC_ISSUER: 'https://login.example.com',
      OIDC_CLIENT_ID: 'bff',
      OIDC_CLIENT_PRIVATE_KEY: file(dir),
    });
    expect(await proc.exited).toBe(1);
    const lines = proc
      .stderr()
      .trim()
      .split('\n')
      .filter((l) => !l.includes('ExperimentalWarning'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^config error: OIDC_CLIENT_PRIVATE_KEY /);
    expect(proc.stdout()).not.toContain('listening');
  });
});
