/**
 * https misdetected (issue 9, item 9): BFF_PUBLIC_URL is https, but the request reaches the gateway as
 * plain http as it sees it (a TLS proxy in front that is not trusted). The Secure cookies could not be
 * set, so login and callback refuse with the 400 page `insecure_request`, storing nothing and without
 * asking the IdP for tokens; the log says to set TRUST_PROXY.
 *
 * The gateway trusts loopback here, so a request carrying `X-Forwarded-Proto: https` stands for one that
 * came through the TLS proxy, and one without it for one that did not (or came through an untrusted one).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_SECRET, startStack, type Stack } from '../helpers/gateway.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { callback, completeAtIdp } from '../helpers/login.js';

const PUBLIC_URL = 'https://app.example.test';
const CLIENT = 'bff-https';
const VIA_TLS_PROXY = { 'x-forwarded-proto': 'https' };

let idp: TestIdp;
let stack: Stack;

beforeAll(async () => {
  idp = await startIdp({
    clients: [
      {
        client_id: CLIENT,
        client_secret: CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${PUBLIC_URL}/auth/callback`],
      },
    ],
  });
  stack = await startStack({
    sharedIdp: idp,
    env: { BFF_PUBLIC_URL: PUBLIC_URL, OIDC_CLIENT_ID: CLIENT, TRUST_PROXY: 'loopback' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await idp?.stop();
});
beforeEach(async () => {
  await stack.redis.flush();
  idp.resetCounts();
  stack.logs.clear();
});

/** Gateway keys that would hold a session or a pending login (anything but the rate-limit counter). */
async function sessionOrLoginKeys(): Promise<string[]> {
  return (await stack.redis.dumpAll()).map((k) => k.key).filter((k) => !k.includes(':ratelimit:'));
}

function expectInsecureRequestPage(res: Response, body: string): void {
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(body).toContain('<code id="error-code">insecure_request</code>');
  expect(res.headers.get('set-cookie')).toBeNull();
  const warning = stack.logs.json().find((l) => String(l.msg).includes('TRUST_PROXY'));
  expect(warning?.level).toBe('warn');
}

/** A login started through the TLS proxy: the pending login is stored, the IdP signs the user in. */
async function callbackUrlFromIdp(browser: ReturnType<Stack['browser']>): Promise<URL> {
  const res = await browser.fetch(`${stack.baseUrl}/auth/login`, { headers: VIA_TLS_PROXY });
  expect(res.status).toBe(302);
  return completeAtIdp(browser, res.headers.get('location')!, 'alice');
}

describe('BFF_PUBLIC_URL https, request seen as plain http', () => {
  it('/auth/login refuses with insecure_request and stores nothing', async () => {
    const res = await stack.browser().fetch(`${stack.baseUrl}/auth/login`);
    expectInsecureRequestPage(res, await res.text());
    expect(res.headers.get('location')).toBeNull();
    expect(await sessionOrLoginKeys()).toEqual([]);
    expect(idp.lastAuthorizationRequests).toHaveLength(0);
  });

  it('/auth/callback refuses with insecure_request before any code exchange; no session is stored', async () => {
    const browser = stack.browser();
    const callbackUrl = await callbackUrlFromIdp(browser);
    expect(await sessionOrLoginKeys()).not.toEqual([]); // the pending login
    stack.logs.clear();

    // The IdP's redirect comes back around the TLS proxy (or through one the gateway does not trust).
    const { response, body } = await callback(browser, callbackUrl, stack.baseUrl);
    expectInsecureRequestPage(response, body);
    expect(idp.tokenRequestAuth).toHaveLength(0); // the token endpoint was never called
    expect(idp.counts.grants).toEqual({});
    expect(await sessionOrLoginKeys()).toEqual([]); // no session, and the pending login is spent
  });

  it('the same flow through the trusted TLS proxy signs in (the setup itself works)', async () => {
    const browser = stack.browser();
    const callbackUrl = await callbackUrlFromIdp(browser);
    const res = await browser.fetch(`${stack.baseUrl}${callbackUrl.pathname}${callbackUrl.search}`, {
      headers: VIA_TLS_PROXY,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/__Host-bff-session=.*Secure/);
    expect(idp.counts.grants.authorization_code).toBe(1);
  });
});
