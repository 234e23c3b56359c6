/**
 * Callback failures (wrong, replayed, foreign or expired state, IdP errors, refused or unreachable
 * code exchange) answer a 4xx/503 page and never create a session; returnTo is always a same-origin path.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getSetCookie } from '../helpers/cookie-jar.js';
import { type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp, loginThroughIdp, startLogin } from '../helpers/login.js';
import { TestBrowser } from '../helpers/browser.js';
import { useLoginStack } from '../helpers/login-stack.js';

const world = useLoginStack();
const { secrets, sessionKeys } = world;
let stack: Stack;
beforeAll(() => {
  stack = world.stack;
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
