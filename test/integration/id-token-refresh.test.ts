/**
 * Issue 9, item 1 (refresh half): an ID token that a refresh returns is verified like a sign-in's
 * (JWKS signature, allowed alg, iss, aud) and must name the session's subject. The attacker controls
 * the token endpoint's refresh answer and slips in a forged ID token; the session must not take it.
 *
 * Needs src/oidc/refresh-grant.ts to call `idp.idTokens.verify(idToken)` on every
 * refresh answer that carries an ID token (503 idp_unavailable and the answer discarded on failure).
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  advertiseWeakAlgs,
  algNone,
  foreignKey,
  garbageSignature,
  type Forge,
} from '../helpers/forged-id-tokens.js';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let stack: Stack;
beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({
    idp: { rewriteResponses: advertiseWeakAlgs },
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
  });
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  stack.idp.rewriteResponses(advertiseWeakAlgs);
});

/** The next refresh answer carries `forge(genuine ID token)` instead of the IdP's own. */
function forgeRefreshIdToken(forge: Forge): string[] {
  const forged: string[] = [];
  stack.idp.rewriteResponses(async (path, body) => {
    if (path !== '/token' || typeof body.id_token !== 'string') return advertiseWeakAlgs(path, body);
    const idToken = await forge(body.id_token);
    forged.push(idToken);
    return { ...body, id_token: idToken };
  });
  return forged;
}

describe('a refresh whose ID token fails validation is refused', () => {
  const cases: Record<string, Forge> = {
    'a garbage signature': garbageSignature,
    'a key not in the JWKS, claiming another user': (genuine) =>
      foreignKey(genuine, 'attacker', { ...decodeJwt(genuine), sub: 'bob', name: 'Bob Builder' }),
    'alg none': (genuine) => algNone(genuine),
  };

  for (const [name, forge] of Object.entries(cases)) {
    it(`${name}: 503 idp_unavailable, the session keeps its tokens and claims`, async () => {
      const alice = await signIn(stack);
      await alice.expireAccessToken();
      const before = await alice.record();
      const forged = forgeRefreshIdToken(forge);

      const res = await alice.api('/api/x');
      expect(forged).toHaveLength(1);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'idp_unavailable' });
      expect(upstream.bearerTokens()).not.toContain(undefined);

      const after = await alice.record();
      expect(after.tokens.idToken).toBe(before.tokens.idToken);
      expect(after.tokens.idToken).not.toBe(forged[0]);
      expect(after.claims).toEqual(before.claims);
      expect(after.sub).toBe('alice');
      expect(stack.logs.text()).not.toContain(forged[0]!);
    });
  }
});
