/**
 * `audience` routes against upstreams that verify like resource servers (signature against the IdP's
 * JWKS, `aud` = their own audience): each API accepts the token the gateway obtained for it, and a
 * token for API A replayed to API B is refused by B (audience confusion is impossible).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { startVerifyingUpstream, type VerifyingUpstream } from '../helpers/verifying-upstream.js';

const ORDERS = 'https://orders.example';
const BILLING = 'https://billing.example';

let idp: TestIdp;
let orders: VerifyingUpstream;
let billing: VerifyingUpstream;
let stack: Stack;

beforeAll(async () => {
  idp = await startIdp({ resources: [ORDERS, BILLING] });
  orders = await startVerifyingUpstream({ issuer: idp.issuer, audience: ORDERS });
  billing = await startVerifyingUpstream({ issuer: idp.issuer, audience: BILLING });
  stack = await startStack({
    sharedIdp: idp,
    routes: [
      { prefix: '/api/orders', target: orders.url, token: 'user', audience: ORDERS },
      { prefix: '/api/billing', target: billing.url, token: 'user', audience: BILLING },
      // Misconfigured on purpose: billing's upstream behind a route that obtains orders' token.
      { prefix: '/api/confused', target: billing.url, token: 'user', audience: ORDERS },
    ],
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await orders?.stop();
  await billing?.stop();
  await idp?.stop();
});

describe('audience routes at verifying upstreams', () => {
  it('each API accepts its own token; a token for orders is refused by billing', async () => {
    const alice = await signIn(stack);
    expect((await alice.api('/api/orders/1')).status).toBe(200);
    expect((await alice.api('/api/billing/1')).status).toBe(200);
    expect(orders.accepted().map((r) => r.aud)).toEqual([ORDERS]);
    expect(billing.accepted().map((r) => r.aud)).toEqual([BILLING]);
    expect(orders.accepted()[0]!.sub).toBe('alice');

    // The orders token, sent to billing (through a route that asks for the wrong audience): refused.
    const confused = await alice.api('/api/confused/1');
    expect(confused.status).toBe(401);
    const refused = billing.refused();
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBe('wrong audience');
    expect(refused[0]!.token).toBe(orders.accepted()[0]!.token);
  });
});
