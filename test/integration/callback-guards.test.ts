/**
 * RFC 9207 mix-up defense from the attacker's side (issue 9, deliverable 2): the real oidc-provider
 * advertises `authorization_response_iss_parameter_supported` and sends `iss`; a callback carrying the
 * IdP's real code and state but no `iss`, or another issuer, is refused with `invalid_issuer` before the
 * code reaches any token endpoint, and leaves no session.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp, startLogin } from '../helpers/login.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.idp.resetCounts();
  stack.logs.clear();
});

async function sessionKeys(): Promise<string[]> {
  return (await stack.redis.dumpAll()).map((k) => k.key).filter((k) => k.endsWith(':session'));
}

/** A real sign-in at the IdP, up to the redirect back to the gateway (not requested). */
async function realCallbackUrl(browser: ReturnType<Stack['browser']>): Promise<URL> {
  return completeAtIdp(browser, await startLogin(browser, stack.baseUrl), 'alice');
}

async function expectRefused(browser: ReturnType<Stack['browser']>, forged: URL): Promise<void> {
  const before = await sessionKeys();
  const { response, body } = await callback(browser, forged);
  expect(response.status).toBe(400);
  expect(body).toContain('<code id="error-code">invalid_issuer</code>');
  expect(response.headers.get('set-cookie') ?? '').not.toContain('bff-session=s');
  expect(stack.idp.tokenRequestAuth).toHaveLength(0); // the token endpoint was never called
  expect(stack.idp.counts.grants).toEqual({});
  expect(await sessionKeys()).toEqual(before);
  expect(stack.logs.json().some((l) => String(l.msg).includes('RFC 9207'))).toBe(true);
}

describe('RFC 9207 iss on the callback', () => {
  it('the IdP advertises and sends iss', async () => {
    const meta = (await (await fetch(stack.idp.url('/.well-known/openid-configuration'))).json()) as Record<
      string,
      unknown
    >;
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    const cb = await realCallbackUrl(stack.browser());
    expect(cb.searchParams.get('iss')).toBe(stack.idp.issuer);
  });

  it('refuses a callback without iss before any code exchange', async () => {
    const browser = stack.browser();
    const cb = await realCallbackUrl(browser);
    cb.searchParams.delete('iss');
    stack.idp.resetCounts();
    await expectRefused(browser, cb);
  });

  it('refuses a callback naming another issuer before any code exchange', async () => {
    const browser = stack.browser();
    const cb = await realCallbackUrl(browser);
    cb.searchParams.set('iss', 'https://attacker.example');
    stack.idp.resetCounts();
    await expectRefused(browser, cb);
  });

  it('refuses two iss parameters, even when one is right', async () => {
    const browser = stack.browser();
    const cb = await realCallbackUrl(browser);
    cb.searchParams.append('iss', 'https://attacker.example');
    stack.idp.resetCounts();
    await expectRefused(browser, cb);
  });

  it('refuses an error response from another issuer', async () => {
    const browser = stack.browser();
    const cb = new URL('/auth/callback', stack.baseUrl);
    cb.search = new URLSearchParams({
      error: 'access_denied',
      state: 'x',
      iss: 'https://attacker.example',
    }).toString();
    await expectRefused(browser, cb);
  });

  it('the untouched callback signs in', async () => {
    const browser = stack.browser();
    const { response } = await callback(browser, await realCallbackUrl(browser));
    expect(response.status).toBe(200);
    expect(stack.idp.counts.grants.authorization_code).toBe(1);
  });
});
