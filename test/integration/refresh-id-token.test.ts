/**
 * An ID token returned by a refresh must carry the session's `iss`, `aud` and `sub` (OIDC Core §12.2;
 * contract, /auth/callback). A hostile IdP re-signs the refresh's ID token with its real key (so the
 * signature is valid) for another user or another audience: the session must not become that user's.
 */
import { SignJWT, decodeJwt, importJWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getSetCookie } from '../helpers/cookie-jar.js';
import { CLIENT_ID, signIn, startStack, type Stack } from '../helpers/gateway.js';
import { getSigningKey } from '../helpers/idp.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let stack: Stack;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({ routes: [{ prefix: '/api', target: upstream.url, token: 'user' }] });
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  stack.idp.rewriteResponses(undefined);
  stack.idp.resetCounts();
  upstream.reset();
});

/** The IdP's own ID token with some claims replaced, signed with the IdP's real key. */
async function resigned(idToken: string, changes: Record<string, unknown>): Promise<string> {
  const claims = { ...decodeJwt(idToken), ...changes };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-rs256' })
    .sign(await importJWK(await getSigningKey(), 'RS256'));
}

const CASES = [
  { name: 'another sub', changes: { sub: 'mallory' } },
  {
    name: 'another aud (an extra audience, azp still the gateway)',
    changes: { aud: [CLIENT_ID, 'other-rp'], azp: CLIENT_ID },
  },
];

describe('a refresh whose ID token is not this sign-in’s', () => {
  it.each(CASES)('$name: refused, the session ended, nothing stored', async ({ changes }) => {
    const alice = await signIn(stack);
    await alice.expireAccessToken();
    const key = stack.parts.keys.session(alice.sid);
    stack.idp.rewriteResponses(async (path, body) =>
      path === '/token' && typeof body.id_token === 'string'
        ? { ...body, id_token: await resigned(body.id_token, changes) }
        : body,
    );

    const res = await alice.api('/api/x');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'session_expired', message: expect.any(String) });
    expect(getSetCookie(res, 'bff-session')?.value).toBe('');
    expect(await stack.redis.client.exists(key)).toBe(0);
    expect(upstream.requests).toHaveLength(0);
    // The refresh token that came with the foreign ID token is revoked, not left usable.
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
    expect(stack.idp.counts.revocations).toBe(1);
    const session = await alice.browser.fetch(`${stack.baseUrl}/auth/session`);
    expect(session.status).toBe(401);
    const line = stack.logs.json().find((l) => l.msg === 'session ended by refresh' && l.sub === 'alice');
    expect(String(line?.reason)).toMatch(/refreshed ID token has another (sub|aud)/);
  });

  it('the same sign-in’s claims: the refresh is stored as usual', async () => {
    const alice = await signIn(stack);
    await alice.expireAccessToken();
    stack.idp.rewriteResponses(async (path, body) =>
      path === '/token' && typeof body.id_token === 'string'
        ? { ...body, id_token: await resigned(body.id_token, { name: 'Alice L.' }) }
        : body,
    );
    expect((await alice.api('/api/x')).status).toBe(200);
    expect((await alice.record()).claims.name).toBe('Alice L.');
  });
});
