/**
 * Login with Authorization Code + PKCE + OIDC: the authorization request as the IdP sees it, the
 * callback page and its cookies, the login cookie, and what /auth/session answers (and does not write).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getSetCookie } from '../helpers/cookie-jar.js';
import { CLIENT_ID, type Stack } from '../helpers/gateway.js';
import { loginThroughIdp } from '../helpers/login.js';
import { recordWrites } from '../helpers/redis-writes.js';
import { useLoginStack } from '../helpers/login-stack.js';

const world = useLoginStack();
const { secrets, storedSession } = world;
let stack: Stack;
beforeAll(() => {
  stack = world.stack;
});

describe('login: Authorization Code + PKCE + OIDC', () => {
  it('sends a standards-exact authorization request and signs the user in', async () => {
    const browser = stack.browser();
    stack.idp.resetCounts();
    const result = await loginThroughIdp(browser, stack.baseUrl, {
      login: 'alice',
      returnTo: '/dashboard?tab=1',
    });
    secrets.add(new URL(result.callbackUrl).searchParams.get('code')!);

    // The authorization request, as the IdP received it.
    const q = stack.idp.lastAuthorizationRequests[0]!;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('redirect_uri')).toBe(`${stack.baseUrl}/auth/callback`);
    expect(q.get('scope')).toBe('openid profile email offline_access');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')!.length).toBeGreaterThanOrEqual(43);
    expect(q.get('nonce')!.length).toBeGreaterThanOrEqual(43);
    expect(q.get('state')).not.toBe(q.get('nonce'));
    expect(q.get('audience')).toBe('https://api.example.com');
    expect(q.get('ui_locales')).toBe('en');
    expect(q.getAll('state')).toHaveLength(1);

    // The callback page navigates to returnTo; it is a 200, not a redirect (SameSite=Strict).
    expect(result.callbackResponse.status).toBe(200);
    expect(result.callbackResponse.headers.get('content-type')).toMatch(/text\/html/);
    expect(result.callbackResponse.headers.get('cache-control')).toBe('no-store');
    expect(result.callbackBody).toContain('<meta http-equiv="refresh" content="0;url=/dashboard?tab=1">');
    expect(result.callbackBody).toContain('href="/dashboard?tab=1"');
    // helmet: a CSP the page lives with (no script needed), forms may post to the IdP, no Referer.
    const csp = result.callbackResponse.headers.get('content-security-policy')!;
    expect(csp).toContain(`form-action 'self' ${stack.idp.issuer}`);
    expect(csp).not.toContain('upgrade-insecure-requests');
    // Clickjacking (RFC 9700 4.16): no other origin may frame the gateway's pages.
    expect(csp).toContain("frame-ancestors 'self'");
    expect(result.callbackBody).not.toContain('<script');
    expect(result.callbackResponse.headers.get('referrer-policy')).toBe('no-referrer');
    expect(result.callbackResponse.headers.get('x-content-type-options')).toBe('nosniff');

    // Cookies: the session cookie is HttpOnly, SameSite=Strict, Path=/, no Domain, no Secure on http.
    const set = getSetCookie(result.callbackResponse, 'bff-session')!;
    expect(set).toBeDefined();
    expect(set.httpOnly).toBe(true);
    expect(set.sameSite?.toLowerCase()).toBe('strict');
    expect(set.path).toBe('/');
    expect(set.domain).toBeUndefined();
    expect(set.secure).toBe(false);
    expect(set.value).not.toContain('.'.repeat(2));

    const { record } = await storedSession(browser);
    expect(stack.idp.counts.grants.authorization_code).toBe(1);
    expect(record.tokens.refreshToken).toBeTruthy();

    // Nothing the browser got holds a token.
    for (const hop of [result.callbackBody, JSON.stringify(browser.jar.list())]) {
      expect(hop).not.toContain(record.tokens.accessToken);
      expect(hop).not.toContain(record.tokens.idToken!);
      expect(hop).not.toContain(record.tokens.refreshToken!);
    }

    const res = await browser.fetch(`${stack.baseUrl}/auth/session`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as {
      authenticated: boolean;
      user: Record<string, unknown>;
      expiresAt: number;
    };
    expect(body.authenticated).toBe(true);
    expect(body.user).toMatchObject({
      sub: 'alice',
      name: 'Alice Liddell',
      email: 'alice@example.com',
      email_verified: true,
    });
    for (const claim of ['iss', 'aud', 'exp', 'iat', 'nonce', 'at_hash', 'c_hash', 'azp'])
      expect(body.user).not.toHaveProperty(claim);
    const twelveHours = Math.floor(Date.now() / 1000) + 12 * 3600;
    expect(Math.abs(body.expiresAt - twelveHours)).toBeLessThan(10);
    const text = JSON.stringify(body);
    expect(text).not.toContain(record.tokens.accessToken);
    expect(text).not.toContain(record.tokens.idToken!);
  });

  it('sets the login cookie HttpOnly, SameSite=Lax, Max-Age=600, Path=/', async () => {
    const browser = stack.browser();
    const res = await browser.fetch(`${stack.baseUrl}/auth/login`);
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const login = getSetCookie(res, 'bff-login')!;
    expect(login.httpOnly).toBe(true);
    expect(login.sameSite?.toLowerCase()).toBe('lax');
    expect(login.maxAge).toBe(600);
    expect(login.path).toBe('/');
    expect(login.domain).toBeUndefined();
    secrets.add(login.value);
    // No session is created by starting a login.
    expect(getSetCookie(res, 'bff-session')).toBeUndefined();
  });

  it('/auth/session without a session is 401 unauthenticated', async () => {
    const res = await fetch(`${stack.baseUrl}/auth/session`);
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'unauthenticated', message: expect.any(String) });
  });

  it('/auth/session does not slide the session (no write, TTL keeps falling)', async () => {
    const browser = stack.browser();
    await loginThroughIdp(browser, stack.baseUrl);
    const { sid } = await storedSession(browser);
    const key = stack.parts.keys.session(sid);
    const before = await stack.redis.client.pttl(key);
    // Every write Redis executed, also those inside a script (a slide is a compare-and-set EVAL).
    const writes = await recordWrites(stack.redis.port);
    for (let i = 0; i < 5; i++)
      expect((await browser.fetch(`${stack.baseUrl}/auth/session`)).status).toBe(200);
    expect((await writes.stop()).map((w) => `${w.name} ${w.args[0]} (${w.source})`)).toEqual([]);
    expect(await stack.redis.client.pttl(key)).toBeLessThanOrEqual(before);
  });
});
