import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSetCookie } from '../helpers/cookie-jar.js';
import { CLIENT_ID, CLIENT_SECRET, sessionIdFromCookie, startStack, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp, loginThroughIdp, startLogin } from '../helpers/login.js';
import { TestBrowser } from '../helpers/browser.js';
import { recordWrites } from '../helpers/redis-writes.js';
import { openStoredSession } from '../../src/session/records/sealed-record.js';

/** Every secret value seen during this file's run; the log check at the end looks for each. */
const secrets = new Set<string>();

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: { OIDC_AUTH_PARAMS: 'audience=https%3A%2F%2Fapi.example.com&ui_locales=en' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

function sessionCookie(browser: TestBrowser): string | undefined {
  return browser.jar.get(stack.baseUrl, 'bff-session');
}

async function sessionKeys(): Promise<string[]> {
  return (await stack.redis.client.keys('bff:*:session')).sort();
}

/** Opens the stored session with the browser's cookie (what the gateway does), to learn its tokens. */
async function storedSession(browser: TestBrowser) {
  const cookie = sessionCookie(browser);
  if (!cookie) throw new Error('no session cookie');
  const sid = sessionIdFromCookie(cookie);
  const loaded = await stack.parts.records.read(sid);
  if (!loaded) throw new Error('no stored session');
  const t = loaded.record.tokens;
  for (const v of [t.accessToken, t.refreshToken, t.idToken, sid, cookie]) if (v) secrets.add(v);
  return { sid, record: loaded.record };
}

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

describe('callback failures: a 4xx page, never a session, never 500', () => {
  async function expectFailurePage(res: { response: Response; body: string }, status: number, code: string) {
    expect(res.response.status).toBe(status);
    expect(res.response.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.body).toContain(`<code id="error-code">${code}</code>`);
    expect(res.body).toContain('href="/auth/login"');
    expect(getSetCookie(res.response, 'bff-session')).toBeUndefined();
  }

  it('wrong state', async () => {
    const browser = stack.browser();
    const authorize = await startLogin(browser, stack.baseUrl);
    const cb = await completeAtIdp(browser, authorize, 'alice');
    secrets.add(cb.searchParams.get('code')!);
    cb.searchParams.set('state', 'x'.repeat(43));
    const keysBefore = await sessionKeys();
    await expectFailurePage(await callback(browser, cb), 400, 'invalid_state');
    expect(await sessionKeys()).toEqual(keysBefore);
  });

  it('replayed state (the same callback twice)', async () => {
    const browser = stack.browser();
    const authorize = await startLogin(browser, stack.baseUrl);
    const cb = await completeAtIdp(browser, authorize, 'alice');
    secrets.add(cb.searchParams.get('code')!);
    expect((await callback(browser, cb)).response.status).toBe(200);
    const keysBefore = await sessionKeys();
    await expectFailurePage(await callback(browser, cb), 400, 'invalid_state');
    expect(await sessionKeys()).toEqual(keysBefore);
  });

  it('foreign state (a callback meant for another browser)', async () => {
    const victim = stack.browser();
    const attacker = stack.browser();
    await attacker.fetch(`${stack.baseUrl}/auth/login`); // the attacker has a login cookie of its own
    const authorize = await startLogin(victim, stack.baseUrl);
    const cb = await completeAtIdp(victim, authorize, 'alice');
    secrets.add(cb.searchParams.get('code')!);
    await expectFailurePage(await callback(attacker, cb), 400, 'invalid_state');
    // ...and the attempt was not consumed by the foreign browser: the victim can still finish.
    expect((await callback(victim, cb)).response.status).toBe(200);
  });

  it('no login cookie', async () => {
    const browser = stack.browser();
    const authorize = await startLogin(browser, stack.baseUrl);
    const cb = await completeAtIdp(browser, authorize, 'alice');
    secrets.add(cb.searchParams.get('code')!);
    await expectFailurePage(await callback(new TestBrowser(), cb), 400, 'invalid_state');
  });

  it('expired (older than 10 minutes)', async () => {
    const browser = stack.browser();
    const authorize = await startLogin(browser, stack.baseUrl);
    const cb = await completeAtIdp(browser, authorize, 'alice');
    secrets.add(cb.searchParams.get('code')!);
    stack.clock.offsetMs = 10 * 60_000 + 1000;
    try {
      await expectFailurePage(await callback(browser, cb), 400, 'login_expired');
    } finally {
      stack.clock.offsetMs = 0;
    }
  });

  it('the IdP says access_denied', async () => {
    const browser = stack.browser();
    const authorize = await startLogin(browser, stack.baseUrl);
    const cb = await completeAtIdp(browser, authorize, 'alice', { consent: false });
    expect(cb.searchParams.get('error')).toBe('access_denied');
    await expectFailurePage(await callback(browser, cb), 400, 'access_denied');
  });

  it('an unknown IdP error code is not echoed as markup', async () => {
    const browser = stack.browser();
    await expectFailurePage(
      await callback(browser, `${stack.baseUrl}/auth/callback?error=%3Cscript%3E&state=x`),
      400,
      'invalid_request',
    );
  });

  it('the IdP refuses the code exchange', async () => {
    const browser = stack.browser();
    const authorize = await startLogin(browser, stack.baseUrl);
    const cb = await completeAtIdp(browser, authorize, 'alice');
    secrets.add(cb.searchParams.get('code')!);
    cb.searchParams.set('code', 'forged-code-that-the-idp-never-issued');
    const keysBefore = await sessionKeys();
    await expectFailurePage(await callback(browser, cb), 400, 'exchange_failed');
    expect(await sessionKeys()).toEqual(keysBefore);
    // The log line the README's troubleshooting table points to, with the IdP's own error.
    const line = stack.logs.json().find((l) => l.msg === 'code exchange refused or ID token invalid');
    expect(line?.err).toMatchObject({ error: 'invalid_grant', error_description: expect.any(String) });
  });

  it('the IdP cannot be reached for the exchange: 503 idp_unavailable page, no session', async () => {
    const browser = stack.browser();
    const authorize = await startLogin(browser, stack.baseUrl);
    const cb = await completeAtIdp(browser, authorize, 'alice');
    secrets.add(cb.searchParams.get('code')!);
    stack.idp.setDown(true);
    try {
      await expectFailurePage(await callback(browser, cb), 503, 'idp_unavailable');
    } finally {
      stack.idp.setDown(false);
    }
  });
});

describe('returnTo is always a same-origin path', () => {
  // Each value is the query's raw bytes, as an attacker's link carries them (not encoded again).
  it.each([
    '//evil.example',
    '/\\evil.example',
    'https://evil.example/',
    'http://evil.example',
    '%2F%2Fevil.example',
    '%252F%252Fevil.example',
    '/%09/evil.example',
    '/%5Cevil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
  ])('%s -> /', async (raw) => {
    const browser = stack.browser();
    const result = await loginThroughIdp(browser, stack.baseUrl, { returnTo: { raw } });
    secrets.add(result.callbackUrl.searchParams.get('code')!);
    expect(result.callbackResponse.status).toBe(200);
    expect(result.callbackBody).toContain('content="0;url=/"');
    expect(result.callbackBody).not.toContain('evil');
  });
});

describe('sessions', () => {
  it('a new session id at every login (fixation), and the old session is deleted', async () => {
    const browser = stack.browser();
    const held: string[] = [];
    browser.jar.set(stack.baseUrl, 'bff-session', 'planted-by-attacker');
    held.push('planted-by-attacker');
    await loginThroughIdp(browser, stack.baseUrl, { login: 'alice' });
    const first = sessionCookie(browser)!;
    held.push(first);
    const firstSid = sessionIdFromCookie(first);
    await storedSession(browser);

    await loginThroughIdp(browser, stack.baseUrl, { login: 'alice' });
    const second = sessionCookie(browser)!;
    const secondSid = sessionIdFromCookie(second);
    await storedSession(browser);
    for (const old of held) expect(second).not.toBe(old);
    expect(secondSid).not.toBe(firstSid);
    expect(await stack.redis.client.exists(stack.parts.keys.session(firstSid))).toBe(0);
    expect(await stack.redis.client.exists(stack.parts.keys.session(secondSid))).toBe(1);
  });

  it('two logins started in parallel in one browser (two tabs) both succeed', async () => {
    const browser = stack.browser();
    // Tab A and tab B each start a login before either returns from the IdP.
    const a = await startLogin(browser, stack.baseUrl, '/tab-a');
    const b = await startLogin(browser, stack.baseUrl, '/tab-b');
    const cbA = await completeAtIdp(browser, a, 'alice');
    const cbB = await completeAtIdp(browser, b, 'alice');
    const [ra, rb] = await Promise.all([callback(browser, cbA), callback(browser, cbB)]);
    expect(ra.response.status).toBe(200);
    expect(rb.response.status).toBe(200);
    expect(ra.body).toContain('url=/tab-a');
    expect(rb.body).toContain('url=/tab-b');
    expect((await browser.fetch(`${stack.baseUrl}/auth/session`)).status).toBe(200);
  });

  it('a sixth pending login evicts the oldest', async () => {
    const browser = stack.browser();
    const starts: URL[] = [];
    for (let i = 0; i < 6; i++) starts.push(await startLogin(browser, stack.baseUrl, `/n${i}`));
    const oldest = await completeAtIdp(browser, starts[0]!, 'alice');
    const newest = await completeAtIdp(browser, starts[5]!, 'alice');
    secrets.add(oldest.searchParams.get('code')!);
    const evicted = await callback(browser, oldest);
    expect(evicted.response.status).toBe(400);
    expect(evicted.body).toContain('invalid_state');
    expect((await callback(browser, newest)).response.status).toBe(200);
  });
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

describe('at rest', () => {
  it('Redis holds no token and no session id, every key has a TTL, and nothing decrypts without the cookie', async () => {
    const browser = stack.browser();
    await loginThroughIdp(browser, stack.baseUrl);
    await startLogin(browser, stack.baseUrl); // a pending login too
    const { sid, record } = await storedSession(browser);
    const dump = await stack.redis.dumpAll();
    expect(dump.length).toBeGreaterThan(0);
    const everything = JSON.stringify(dump);
    for (const secret of [
      record.tokens.accessToken,
      record.tokens.refreshToken!,
      record.tokens.idToken!,
      sid,
      'alice@example.com',
    ]) {
      expect(everything).not.toContain(secret);
    }
    for (const entry of dump) {
      expect(entry.key.startsWith('bff:')).toBe(true);
      expect(entry.ttlMs, entry.key).toBeGreaterThan(0);
    }
    // The session key lives exactly until the idle end (30 min).
    const ttl = dump.find((e) => e.key === stack.parts.keys.session(sid))!.ttlMs;
    expect(ttl).toBeGreaterThan(29 * 60_000);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);

    // An attacker with the dump and the gateway's configuration (its vault) but not the cookie:
    const key = stack.parts.keys.session(sid);
    const raw = (await stack.redis.client.getBuffer(key))!;
    const hashInKey = /\{([^}]+)\}/.exec(key)![1]!;
    for (const guess of ['', key, hashInKey, 'alice', CLIENT_SECRET]) {
      expect(stack.parts.vault.openBytes(raw, guess, 'session')).toBeUndefined();
      expect(openStoredSession(stack.parts.vault, guess, raw)).toBeUndefined();
    }
    // ...while the browser's cookie opens it (so the test above is not vacuous).
    expect(openStoredSession(stack.parts.vault, sid, raw)?.tokens.accessToken).toBe(
      record.tokens.accessToken,
    );
  });
});

describe('store and IdP outages', () => {
  it('a hung Redis answers 503 session_store_unavailable (a command timeout, not a hang)', async () => {
    const browser = stack.browser();
    await loginThroughIdp(browser, stack.baseUrl);
    await storedSession(browser);
    stack.redis.pause();
    try {
      // Redis never answers while paused: any answer at all comes from the gateway's command timeout.
      const res = await browser.fetch(`${stack.baseUrl}/auth/session`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'session_store_unavailable', message: expect.any(String) });
      const ready = await fetch(`${stack.baseUrl}/readyz`);
      expect(ready.status).toBe(503);
      const login = await browser.fetch(`${stack.baseUrl}/auth/login`);
      expect(login.status).toBe(503);
      expect(await login.text()).toContain('session_store_unavailable');
    } finally {
      stack.redis.resume();
    }
    // Nothing was lost: the session is still there once Redis answers.
    await expect
      .poll(async () => (await browser.fetch(`${stack.baseUrl}/auth/session`)).status, { timeout: 10_000 })
      .toBe(200);
  });
});

describe('secrets stay out of the logs', () => {
  it('no token, code, session id or cookie value appears in any log line', async () => {
    // Its own login, logout and refused exchange, so it holds alone too; plus whatever the file saw.
    const browser = stack.browser();
    const login = await loginThroughIdp(browser, stack.baseUrl);
    secrets.add(login.callbackUrl.searchParams.get('code')!);
    for (const cookie of browser.jar.list()) secrets.add(cookie.value);
    await storedSession(browser);
    const refused = await completeAtIdp(browser, await startLogin(browser, stack.baseUrl), 'alice');
    secrets.add(refused.searchParams.get('code')!);
    for (const cookie of browser.jar.list()) secrets.add(cookie.value);
    refused.searchParams.set('code', 'forged-code-that-the-idp-never-issued');
    expect((await callback(browser, refused)).response.status).toBe(400);
    const logout = await browser.fetch(`${stack.baseUrl}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf': '1' },
    });
    expect(logout.status).toBe(200);

    const text = stack.logs.text();
    expect(text).toContain('code exchange refused');
    expect(secrets.size).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toContain(stack.env.SESSION_SECRET!);
  });
});
