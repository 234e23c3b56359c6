/**
 * Logout: the session is deleted, the refresh token revoked, the cookie cleared and the IdP's logout
 * URL returned (JSON or a 303 for a form post); refused without the CSRF header or from a foreign Origin.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getSetCookie } from '../helpers/cookie-jar.js';
import { CLIENT_ID, CLIENT_SECRET, type Stack } from '../helpers/gateway.js';
import { loginThroughIdp } from '../helpers/login.js';
import { useLoginStack } from '../helpers/login-stack.js';

const world = useLoginStack();
const { sessionCookie, storedSession } = world;
let stack: Stack;
beforeAll(() => {
  stack = world.stack;
});

describe('logout', () => {
  it('deletes the session, revokes the refresh token, clears the cookie, returns logoutUrl', async () => {
    const browser = stack.browser();
    await loginThroughIdp(browser, stack.baseUrl);
    const { sid, record } = await storedSession(browser);
    const key = stack.parts.keys.session(sid);
    expect(await stack.redis.client.exists(key)).toBe(1);
    expect((await stack.idp.introspect(record.tokens.refreshToken!, CLIENT_ID, CLIENT_SECRET)).active).toBe(
      true,
    );

    const res = await browser.fetch(`${stack.baseUrl}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf': '1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { logoutUrl } = (await res.json()) as { logoutUrl: string };
    const url = new URL(logoutUrl);
    expect(`${url.origin}${url.pathname}`).toBe(stack.idp.url('/session/end'));
    expect(url.searchParams.get('id_token_hint')).toBe(record.tokens.idToken);
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.baseUrl}/`);

    const cleared = getSetCookie(res, 'bff-session')!;
    expect(cleared.value).toBe('');
    expect(await stack.redis.client.exists(key)).toBe(0);
    expect((await stack.idp.introspect(record.tokens.refreshToken!, CLIENT_ID, CLIENT_SECRET)).active).toBe(
      false,
    );
    // The old cookie is worthless now.
    const replay = await fetch(`${stack.baseUrl}/auth/session`, {
      headers: {
        cookie: `bff-session=${encodeURIComponent(decodeURIComponent(sessionCookie(browser) ?? ''))}`,
      },
    });
    expect(replay.status).toBe(401);
  });

  it('a same-origin form post gets a 303 to the logout URL', async () => {
    const browser = stack.browser();
    await loginThroughIdp(browser, stack.baseUrl);
    await storedSession(browser);
    const res = await browser.fetch(`${stack.baseUrl}/auth/logout`, {
      method: 'POST',
      headers: { origin: stack.baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${stack.idp.url('/session/end')}\\?`));
  });

  it('is refused without the header, and with a foreign Origin even with it', async () => {
    const browser = stack.browser();
    await loginThroughIdp(browser, stack.baseUrl);
    const { sid } = await storedSession(browser);
    const attempts: Record<string, string>[] = [
      {},
      { origin: 'https://evil.example', 'x-csrf': '1' },
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site', 'x-csrf': '1' },
    ];
    for (const headers of attempts) {
      const res = await browser.fetch(`${stack.baseUrl}/auth/logout`, { method: 'POST', headers });
      expect(res.status).toBe(403);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ error: 'csrf_required', message: expect.any(String) });
    }
    expect(await stack.redis.client.exists(stack.parts.keys.session(sid))).toBe(1);
  });
});
