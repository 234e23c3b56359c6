/**
 * `audience` and `exchange` routes with OIDC_DPOP=true: the route tokens are obtained with the
 * session's DPoP key, so they are bound to it (`cnf.jkt`), and a verifying upstream accepts them only
 * with a fresh proof of that key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { startIdp, TOKEN_EXCHANGE, type TestIdp } from '../helpers/idp.js';
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
    env: { OIDC_DPOP: 'true' },
    routes: [
      { prefix: '/api/orders', target: orders.url, token: 'user', audience: ORDERS },
      { prefix: '/api/billing', target: billing.url, token: 'user', exchange: { audience: BILLING } },
    ],
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await orders?.stop();
  await billing?.stop();
  await idp?.stop();
});

describe('route tokens with DPoP', () => {
  it('audience and exchange tokens are bound to the session key and accepted with its proofs', async () => {
    const alice = await signIn(stack);
    idp.resetCounts();
    expect((await alice.api('/api/orders/1')).status).toBe(200);
    expect((await alice.api('/api/billing/1')).status).toBe(200);
    const [viaAudience] = orders.accepted();
    const [viaExchange] = billing.accepted();
    expect(viaAudience).toMatchObject({ scheme: 'DPoP', aud: ORDERS });
    expect(viaExchange).toMatchObject({ scheme: 'DPoP', aud: BILLING });
    expect(viaAudience!.jkt).toBeDefined();
    expect(viaExchange!.jkt).toBe(viaAudience!.jkt);
    const issued = idp.issued.filter((t) => t.grantType === TOKEN_EXCHANGE || t.requested === ORDERS);
    expect(issued.map((t) => t.jkt)).toEqual([viaAudience!.jkt, viaAudience!.jkt]);
  });
});
