/**
 * Issue 12, silent sign-in: `/auth/login?prompt=none` against the real oidc-provider. Without an IdP
 * session the IdP answers `login_required` and the callback sends the browser back to `returnTo` with
 * `login_error` (302, no session, the attempt spent); with one, the user is signed in without any page
 * at the IdP. Only the four prompt=none codes, on an attempt that asked for prompt=none, return there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '../helpers/browser.js';
import { sessionIdFromCookie, signIn, startStack, type Stack } from '../helpers/gateway.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ loginRateLimit: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

async function sessionKeys(): Promise<string[]> {
  return (await stack.redis.client.keys('bff:*:session')).sort();
}

/** bff_logins_total for this outcome. */
async function loginsCounted(outcome: string): Promise<number> {
  const { values } = await stack.parts.metrics.logins.get();
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** Follows every redirect from `/auth/login?…`; each hop's status and where it was. */
async function silently(browser: TestBrowser, query: string) {
  const hops = await browser.follow(`${stack.baseUrl}/auth/login?${query}`);
  return hops.map((hop) => ({ status: hop.response.status, url: hop.url, response: hop.response }));
}

/** The IdP's answer to a prompt=none attempt: the callback URL it redirects to, not requested. */
async function idpAnswer(browser: TestBrowser, query: string): Promise<URL> {
  const start = await browser.fetch(`${stack.baseUrl}/auth/login?${query}`);
  await start.body?.cancel();
  let url = new URL(start.headers.get('location')!);
  for (let step = 0; step < 10; step++) {
    const res = await browser.fetch(url);
    await res.body?.cancel();
    const next = new URL(res.headers.get('location')!, url);
    if (next.origin === stack.baseUrl) return next;
    url = next;
  }
  throw new Error('the IdP did not return to the gateway');
}

describe('prompt=none', () => {
  it('without an IdP session: back to returnTo with login_error=login_required, no session, the attempt spent', async () => {
    const browser = stack.browser();
    const before = await sessionKeys();
    stack.idp.resetCounts();
    const hops = await silently(browser, `prompt=none&returnTo=${encodeURIComponent('/app?tab=2#top')}`);

    // gateway 302 -> IdP -> callback 302 -> the app's page; never an IdP page.
    const callbackHop = hops.find((h) => h.url.pathname === '/auth/callback')!;
    expect(callbackHop.url.searchParams.get('error')).toBe('login_required');
    expect(callbackHop.status).toBe(302);
    expect(callbackHop.response.headers.get('location')).toBe('/app?tab=2&login_error=login_required#top');
    expect(callbackHop.response.headers.get('cache-control')).toBe('no-store');
    expect(hops.filter((h) => h.url.origin === stack.idp.issuer).every((h) => h.status === 303)).toBe(true);
    expect(stack.idp.lastAuthorizationRequests[0]?.get('prompt')).toBe('none');

    expect(browser.jar.get(stack.baseUrl, 'bff-session')).toBeUndefined();
    expect(await sessionKeys()).toEqual(before);
    expect(stack.idp.counts.grants).toEqual({});
    // Counted as what it was, not as a completed sign-in.
    expect(await loginsCounted('login_required')).toBe(1);
    expect(await loginsCounted('ok')).toBe(0);
    // The attempt was used: the same answer again is the error page, no second return.
    const again = await browser.fetch(callbackHop.url);
    expect(again.status).toBe(400);
    expect(again.headers.get('location')).toBeNull();
  });

  it('with an IdP session: signed in without any page at the IdP, as a new session', async () => {
    const alice = await signIn(stack, 'alice');
    const browser = alice.browser;
    // The gateway's cookie is gone (a browser-session cookie, the browser was closed); the IdP's stay.
    browser.jar.delete(stack.baseUrl, 'bff-session');

    stack.idp.resetCounts();
    const hops = await silently(browser, 'prompt=none&returnTo=%2Fhome');
    const last = hops.at(-1)!;
    expect(last.url.pathname).toBe('/auth/callback');
    expect(last.status).toBe(200);
    expect(await last.response.text()).toContain('url=/home');
    // Nothing but redirects at the IdP: no login or consent page was shown.
    expect(hops.filter((h) => h.url.origin === stack.idp.issuer).every((h) => h.status === 303)).toBe(true);
    expect(stack.idp.counts.grants).toEqual({ authorization_code: 1 });
    const sid = sessionIdFromCookie(browser.jar.get(stack.baseUrl, 'bff-session')!);
    expect(sid).not.toBe(alice.sid);
    expect((await stack.parts.records.read(sid))?.record.sub).toBe('alice');
  });

  it('after signing out at the gateway (the grant revoked with the refresh token): login_error=consent_required', async () => {
    const bob = await signIn(stack, 'bob');
    expect((await bob.api('/auth/logout', { method: 'POST' })).status).toBe(200);
    await expect.poll(() => stack.idp.counts.revocations).toBeGreaterThan(0);
    const before = await sessionKeys();

    const hops = await silently(bob.browser, 'prompt=none&returnTo=%2Fhome');
    const callbackHop = hops.find((h) => h.url.pathname === '/auth/callback')!;
    expect(callbackHop.status).toBe(302);
    expect(callbackHop.response.headers.get('location')).toBe('/home?login_error=consent_required');
    expect(bob.browser.jar.get(stack.baseUrl, 'bff-session')).toBeUndefined();
    expect(await sessionKeys()).toEqual(before);
  });

  it('another IdP error on a prompt=none attempt is the error page, not a return to the app', async () => {
    const browser = stack.browser();
    const callbackUrl = await idpAnswer(browser, 'prompt=none&returnTo=%2Fapp');
    expect(callbackUrl.searchParams.get('error')).toBe('login_required');
    callbackUrl.searchParams.set('error', 'access_denied');
    const res = await browser.fetch(callbackUrl);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('access_denied');
  });

  it('login_required on an attempt that did not ask for prompt=none, or for an unknown state, is the error page', async () => {
    const browser = stack.browser();
    // A normal attempt; the answer is forged as if the IdP had said login_required.
    const start = await browser.fetch(`${stack.baseUrl}/auth/login?returnTo=%2Fapp`);
    await start.body?.cancel();
    const authorize = new URL(start.headers.get('location')!);
    const forged = new URL(`${stack.baseUrl}/auth/callback`);
    forged.searchParams.set('error', 'login_required');
    forged.searchParams.set('state', authorize.searchParams.get('state')!);
    forged.searchParams.set('iss', stack.idp.issuer);
    const normal = await browser.fetch(forged);
    expect(normal.status).toBe(400);
    expect(normal.headers.get('location')).toBeNull();
    expect(await normal.text()).toContain('login_required');

    // An unknown state: the gateway cannot know where to return, so it never redirects.
    forged.searchParams.set('state', 'x'.repeat(43));
    const unknown = await browser.fetch(forged);
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('location')).toBeNull();
  });
});
