/**
 * Issue 12, sign-in options: /auth/login passes `prompt`, `acr_values`, `max_age`, `login_hint` and
 * `ui_locales` on to the real oidc-provider exactly (nothing else from its query), drops values
 * outside their form, and the callback checks the ID token's `auth_time` against a requested
 * `max_age` (openid-client's check), whatever the IdP did with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../helpers/browser.js';
import { CLIENT_ID, sessionIdFromCookie, startStack, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp } from '../helpers/login.js';
import { waitUntil } from '../helpers/wait.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    // ui_locales here is replaced by the browser's option; no clock tolerance, so max_age=1 is exact.
    env: { OIDC_AUTH_PARAMS: 'ui_locales=en&audience=urn%3Aexample%3Aapi', OIDC_CLOCK_TOLERANCE: '0' },
    loginRateLimit: 0,
  });
});
afterAll(async () => {
  await stack?.stop();
});

async function start(browser: TestBrowser, query: string): Promise<URL> {
  const res = await browser.fetch(`${stack.baseUrl}/auth/login?${query}`);
  await res.body?.cancel();
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

async function sessionRecord(browser: TestBrowser) {
  const cookie = browser.jar.get(stack.baseUrl, 'bff-session');
  if (cookie === undefined) return undefined;
  return (await stack.parts.records.read(sessionIdFromCookie(cookie)))?.record;
}

async function sessionCount(): Promise<number> {
  return (await stack.redis.client.keys('bff:*:session')).length;
}

/** The parameter names of a URL's query, sorted. */
function names(url: URL): string[] {
  return [...new Set(url.searchParams.keys())].sort();
}

const PROTOCOL = [
  'client_id',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
];

describe('sign-in options on /auth/login', () => {
  it('passes the five options on exactly, and nothing else from the query; the sign-in completes with them', async () => {
    const browser = stack.browser();
    stack.idp.resetCounts();
    const query = new URLSearchParams({
      returnTo: '/after',
      prompt: 'login',
      acr_values: 'urn:example:mfa urn:example:pwd',
      max_age: '600',
      login_hint: 'alice',
      ui_locales: 'de-CH fr',
      // None of these may reach the IdP from the browser.
      scope: 'openid admin',
      redirect_uri: 'https://evil.example/cb',
      response_mode: 'fragment',
      claims: '{"id_token":{"acr":{"essential":true}}}',
      client_id: 'other',
      audience: 'https://evil.example',
    });
    const authorizeUrl = await start(browser, query.toString());
    expect(names(authorizeUrl)).toEqual(
      [...PROTOCOL, 'acr_values', 'audience', 'login_hint', 'max_age', 'prompt', 'ui_locales'].sort(),
    );
    expect(Object.fromEntries(authorizeUrl.searchParams)).toMatchObject({
      prompt: 'login',
      acr_values: 'urn:example:mfa urn:example:pwd',
      max_age: '600',
      login_hint: 'alice',
      ui_locales: 'de-CH fr',
      scope: 'openid profile email offline_access',
      redirect_uri: `${stack.baseUrl}/auth/callback`,
      client_id: CLIENT_ID,
      audience: 'urn:example:api',
    });
    expect(authorizeUrl.searchParams.getAll('ui_locales')).toEqual(['de-CH fr']);

    const callbackUrl = await completeAtIdp(browser, authorizeUrl, 'alice');
    // What the IdP received is what the gateway sent.
    const received = stack.idp.lastAuthorizationRequests[0]!;
    expect(received.toString()).toBe(authorizeUrl.searchParams.toString());
    const { response } = await callback(browser, callbackUrl);
    expect(response.status).toBe(200);
    const record = await sessionRecord(browser);
    expect(record?.sub).toBe('alice');
    // max_age obliged the IdP to say when the user signed in: kept with the session.
    const authTime = record?.claims.auth_time as number;
    expect(Math.abs(authTime - Date.now() / 1000)).toBeLessThan(30);
  });

  it.each([
    ['an unknown prompt', 'prompt=create', 'prompt'],
    ['two prompts', 'prompt=login%20consent', 'prompt'],
    ['a repeated prompt', 'prompt=none&prompt=login', 'prompt'],
    ['a negative max_age', 'max_age=-1', 'max_age'],
    ['a fractional max_age', 'max_age=1.5', 'max_age'],
    ['a max_age in exponent form', 'max_age=1e3', 'max_age'],
    ['acr_values with a quote', 'acr_values=urn%3Aa%22b', 'acr_values'],
    ['a login_hint with a line break', 'login_hint=alice%0D%0AX-Evil%3A%201', 'login_hint'],
    ['a login_hint of 257 characters', `login_hint=${'a'.repeat(257)}`, 'login_hint'],
    ['ui_locales that are not language tags', 'ui_locales=en_US', 'ui_locales'],
  ])('drops %s and signs in without it', async (_what, query, name) => {
    const authorizeUrl = await start(stack.browser(), `returnTo=%2F&${query}`);
    // ui_locales falls back to the configured OIDC_AUTH_PARAMS value; the others are absent.
    if (name === 'ui_locales') expect(authorizeUrl.searchParams.getAll(name)).toEqual(['en']);
    else expect(authorizeUrl.searchParams.has(name)).toBe(false);
    expect(names(authorizeUrl)).toEqual([...PROTOCOL, 'audience', 'ui_locales'].sort());
  });
});

describe('max_age and auth_time', () => {
  it('an ID token without auth_time (the IdP never saw max_age) fails the callback: exchange_failed, no session', async () => {
    const browser = stack.browser();
    const before = await sessionCount();
    const authorizeUrl = await start(browser, 'returnTo=%2F&max_age=600');
    // An IdP that ignores max_age: it does not reach the provider, which then adds no auth_time.
    authorizeUrl.searchParams.delete('max_age');
    const callbackUrl = await completeAtIdp(browser, authorizeUrl, 'alice');
    const { response, body } = await callback(browser, callbackUrl);
    expect(response.status).toBe(400);
    expect(body).toContain('exchange_failed');
    expect(browser.jar.get(stack.baseUrl, 'bff-session')).toBeUndefined();
    expect(await sessionCount()).toBe(before);
    expect(stack.logs.text()).toMatch(/auth_time/);
  });

  it('an auth_time older than max_age fails the callback; the IdP honouring max_age signs the user in afresh', async () => {
    const browser = stack.browser();
    // A first sign-in whose time the IdP tells (prompt=login obliges it): the IdP session's auth_time.
    const first = await completeAtIdp(browser, await start(browser, 'returnTo=%2F&prompt=login'), 'bob');
    expect((await callback(browser, first)).response.status).toBe(200);
    const signedInAt = (await sessionRecord(browser))!.claims.auth_time as number;
    // max_age=1 once that sign-in is more than a second old.
    await waitUntil('the sign-in to be older than max_age=1', async () =>
      Math.floor(Date.now() / 1000) > signedInAt + 1 ? true : undefined,
    );

    // An IdP that ignores max_age=1 (it sees 3600) keeps its old sign-in: the gateway refuses it.
    const stale = await start(browser, 'returnTo=%2F&max_age=1');
    stale.searchParams.set('max_age', '3600');
    const staleCallback = await completeAtIdp(browser, stale, 'bob');
    const refused = await callback(browser, staleCallback);
    expect(refused.response.status).toBe(400);
    expect(refused.body).toContain('exchange_failed');

    // The real IdP, seeing max_age=1, asks for the login again; auth_time is then fresh.
    stack.idp.resetCounts();
    const fresh = await start(browser, 'returnTo=%2F&max_age=1');
    const freshCallback = await completeAtIdp(browser, fresh, 'bob');
    expect((await callback(browser, freshCallback)).response.status).toBe(200);
    const record = (await sessionRecord(browser))!;
    expect(record.sub).toBe('bob');
    expect(record.claims.auth_time as number).toBeGreaterThan(signedInAt + 1);
    expect(stack.idp.counts.grants).toEqual({ authorization_code: 1 });
  });
});

describe('max_age from OIDC_AUTH_PARAMS', () => {
  it('is checked like the option: an ID token without auth_time fails the callback', async () => {
    const configured = await startStack({ env: { OIDC_AUTH_PARAMS: 'max_age=600' }, loginRateLimit: 0 });
    try {
      const browser = configured.browser();
      const res = await browser.fetch(`${configured.baseUrl}/auth/login?returnTo=%2F`);
      await res.body?.cancel();
      const authorizeUrl = new URL(res.headers.get('location')!);
      expect(authorizeUrl.searchParams.get('max_age')).toBe('600');
      authorizeUrl.searchParams.delete('max_age');
      const { response, body } = await callback(browser, await completeAtIdp(browser, authorizeUrl, 'alice'));
      expect(response.status).toBe(400);
      expect(body).toContain('exchange_failed');
      expect(browser.jar.get(configured.baseUrl, 'bff-session')).toBeUndefined();
    } finally {
      await configured.stop();
    }
  });
});
