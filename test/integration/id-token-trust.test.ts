/**
 * Issue 9, item 1: every ID token from the token endpoint is verified against the IdP's JWKS with an
 * allowed `alg`. The attacker controls the token endpoint's answer (a hostile or compromised IdP
 * front, a mixed-up IdP): the real oidc-provider issues the code and the genuine ID token, and the
 * answer is rewritten on its way out with a forged ID token carrying the same, otherwise valid claims.
 */
import { randomBytes } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  advertiseWeakAlgs,
  algNone,
  foreignKey,
  garbageSignature,
  hmacWithSecret,
  type Forge,
} from '../helpers/forged-id-tokens.js';
import { CLIENT_SECRET, startStack, type Stack } from '../helpers/gateway.js';
import { getSigningKey } from '../helpers/idp.js';
import { loginThroughIdp } from '../helpers/login.js';

const forgeries: Record<string, Forge> = {
  'a well-formed alg:none token': (genuine) => algNone(genuine),
  'an RS256 token with a garbage signature': garbageSignature,
  "a token signed by a key not in the JWKS, under the IdP's own kid": (genuine) =>
    foreignKey(genuine, 'same'),
  'a token signed by a key not in the JWKS, under a kid of its own (JWKS re-fetched, still refused)': (
    genuine,
  ) => foreignKey(genuine, `attacker-${randomBytes(8).toString('hex')}`),
  'an HS256 token signed with the client secret': (genuine) => hmacWithSecret(genuine, CLIENT_SECRET),
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ idp: { rewriteResponses: advertiseWeakAlgs } });
});
afterEach(() => {
  stack.idp.rewriteResponses(advertiseWeakAlgs);
});
afterAll(async () => {
  await stack?.stop();
});

async function sessionKeys(): Promise<string[]> {
  return (await stack.redis.client.keys('bff:*:session')).sort();
}

/** The token endpoint answers the code exchange with `forge(genuine ID token)`. */
function forgeIdTokens(forge: Forge): string[] {
  const forged: string[] = [];
  stack.idp.rewriteResponses(async (path, body) => {
    if (path !== '/token' || typeof body.id_token !== 'string') return advertiseWeakAlgs(path, body);
    const idToken = await forge(body.id_token);
    forged.push(idToken);
    return { ...body, id_token: idToken };
  });
  return forged;
}

/** Re-signed with the IdP's own key (what the IdP would issue), with `change` applied to the claims. */
function resignedByIdp(change: (claims: JWTPayload) => JWTPayload): Forge {
  return async (genuine) =>
    new SignJWT(change(decodeJwt(genuine)))
      .setProtectedHeader({ alg: 'RS256', kid: (await getSigningKey()).kid! })
      .sign(await importJWK(await getSigningKey(), 'RS256'));
}

describe('ID tokens from the token endpoint are verified against the JWKS', () => {
  it('a genuine ID token signs the user in (the hostile metadata alone changes nothing)', async () => {
    const result = await loginThroughIdp(stack.browser(), stack.baseUrl, { login: 'alice' });
    expect(result.callbackResponse.status).toBe(200);
  });

  it('control: the same claims re-signed with the IdP key sign in (the rewrite itself is harmless)', async () => {
    const forged = forgeIdTokens(resignedByIdp((claims) => claims));
    const result = await loginThroughIdp(stack.browser(), stack.baseUrl, { login: 'alice' });
    expect(forged).toHaveLength(1);
    expect(result.callbackResponse.status).toBe(200);
  });

  it('an ID token issued an hour in the future (beyond OIDC_CLOCK_TOLERANCE): exchange_failed', async () => {
    forgeIdTokens(resignedByIdp((claims) => ({ ...claims, iat: claims.iat! + 3600 })));
    const keysBefore = await sessionKeys();
    const result = await loginThroughIdp(stack.browser(), stack.baseUrl, { login: 'alice' });
    expect(result.callbackBody).toContain('<code id="error-code">exchange_failed</code>');
    expect(await sessionKeys()).toEqual(keysBefore);
  });

  for (const [name, forge] of Object.entries(forgeries)) {
    it(`${name}: exchange_failed, no session`, async () => {
      const forged = forgeIdTokens(forge);
      const keysBefore = await sessionKeys();
      const result = await loginThroughIdp(stack.browser(), stack.baseUrl, { login: 'mallory' });

      expect(forged).toHaveLength(1);
      expect(result.callbackResponse.status).toBe(400);
      expect(result.callbackBody).toContain('<code id="error-code">exchange_failed</code>');
      expect(result.callbackResponse.headers.get('set-cookie') ?? '').not.toContain('bff-session=');
      expect(await sessionKeys()).toEqual(keysBefore);
      // The log says why, and never carries the forged token.
      const line = stack.logs.json().findLast((l) => l.msg === 'code exchange refused or ID token invalid');
      expect(JSON.stringify(line?.err)).toMatch(/IdTokenRejectedError/);
      expect(stack.logs.text()).not.toContain(forged[0]!);
    });
  }
});

describe('JWKS rotation', () => {
  // Its own gateway: the forgeries above started the JWKS re-fetch cooldown of the shared one.
  let rotating: Stack;
  beforeAll(async () => {
    rotating = await startStack();
  });
  afterAll(async () => {
    await rotating?.stop();
  });

  it('a token naming a kid the gateway has not seen re-fetches the JWKS (at most every few seconds)', async () => {
    const stack = rotating;
    // Only Date: jose's JWKS cooldown reads it; timers and sockets run for real.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    onTestFinished(() => void vi.useRealTimers());
    // Warm the gateway's JWKS cache with the IdP's current key.
    expect((await loginThroughIdp(stack.browser(), stack.baseUrl)).callbackResponse.status).toBe(200);

    // The IdP rotates: a new key appears in its JWKS and signs the next ID tokens.
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const rotated = (n: number): JWK & { kid: string } => ({ kid: `rotated-${n}`, alg: 'RS256', use: 'sig' });
    const published: JWK[] = [{ ...(await exportJWK(publicKey)), ...rotated(1) }];
    let jwksFetches = 0;
    let signingKid = rotated(1).kid;
    stack.idp.rewriteResponses(async (path, body) => {
      if (path === '/jwks') {
        jwksFetches += 1;
        return { keys: [...(body.keys as JWK[]), ...published] };
      }
      if (path !== '/token' || typeof body.id_token !== 'string') return advertiseWeakAlgs(path, body);
      const idToken = await new SignJWT(decodeJwt(body.id_token))
        .setProtectedHeader({ alg: 'RS256', kid: signingKid })
        .sign(privateKey);
      return { ...body, id_token: idToken };
    });

    // The warm-up fetch started the cooldown: move the (in-process) clock past it.
    vi.setSystemTime(Date.now() + 6_000);
    expect((await loginThroughIdp(stack.browser(), stack.baseUrl)).callbackResponse.status).toBe(200);
    expect(jwksFetches).toBe(1);

    // Another unknown kid right away: no fetch inside the cooldown (a flood of made-up kids cannot
    // turn the gateway into a JWKS hammer), so it is refused...
    published.push({ ...(await exportJWK(publicKey)), ...rotated(2) });
    signingKid = rotated(2).kid;
    const early = await loginThroughIdp(stack.browser(), stack.baseUrl);
    expect(early.callbackBody).toContain('<code id="error-code">exchange_failed</code>');
    expect(jwksFetches).toBe(1);
    // ...and accepted once the cooldown has passed.
    vi.setSystemTime(Date.now() + 6_000);
    expect((await loginThroughIdp(stack.browser(), stack.baseUrl)).callbackResponse.status).toBe(200);
    expect(jwksFetches).toBe(2);
  });
});

describe('OIDC_ID_TOKEN_ALGS', () => {
  let strict: Stack;
  beforeAll(async () => {
    strict = await startStack({ env: { OIDC_ID_TOKEN_ALGS: 'ES256,PS256' } });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it("an ID token signed with an alg outside the list (the IdP's genuine RS256) is refused", async () => {
    const result = await loginThroughIdp(strict.browser(), strict.baseUrl, { login: 'alice' });
    expect(result.callbackBody).toContain('<code id="error-code">exchange_failed</code>');
    const line = strict.logs.json().findLast((l) => l.msg === 'code exchange refused or ID token invalid');
    expect(JSON.stringify(line?.err)).toContain('ERR_JOSE_ALG_NOT_ALLOWED');
  });
});
