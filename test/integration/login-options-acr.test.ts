/**
 * Issue 12, `acr_values` on /auth/login against the real oidc-provider (the test IdP gives
 * `urn:example:mfa` when a sign-in asks for it, `urn:example:pwd` otherwise): the session keeps the
 * `acr` and `amr` the IdP returned. An IdP that ignores `acr_values` still signs the user in, but a
 * route that requires the stronger acr stays at 401 `step_up_required` and its upstream is never asked.
 * A silent sign-in asking for more than the IdP session has returns `login_required`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '../helpers/browser.js';
import { sessionIdFromCookie, startStack, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp } from '../helpers/login.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';

const MFA = 'urn:example:mfa';
const PWD = 'urn:example:pwd';

let up: RecordingUpstream;
let stack: Stack;
beforeAll(async () => {
  up = await startRecordingUpstream();
  stack = await startStack({
    routes: [{ prefix: '/api/admin', target: `${up.url}/v1`, token: 'user', require: { acr: [MFA] } }],
    loginRateLimit: 0,
  });
});
afterAll(async () => {
  await stack?.stop();
  await up?.stop();
});

/** GET /auth/login?…: where the gateway sends the browser. */
async function start(browser: TestBrowser, query: string): Promise<URL> {
  const res = await browser.fetch(`${stack.baseUrl}/auth/login?${query}`);
  await res.body?.cancel();
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

async function signInWith(browser: TestBrowser, authorizeUrl: URL, login: string) {
  const { response, body } = await callback(browser, await completeAtIdp(browser, authorizeUrl, login));
  expect(response.status, body).toBe(200);
  const sid = sessionIdFromCookie(browser.jar.get(stack.baseUrl, 'bff-session')!);
  return (await stack.parts.records.read(sid))!.record;
}

function admin(browser: TestBrowser): Promise<Response> {
  return browser.fetch(`${stack.baseUrl}/api/admin/users`, { headers: { 'x-csrf': '1' } });
}

describe('acr_values', () => {
  it("asked and given: the session keeps the IdP's acr and amr, and the route that needs it answers", async () => {
    const browser = stack.browser();
    const authorizeUrl = await start(browser, `returnTo=%2F&acr_values=${encodeURIComponent(MFA)}`);
    expect(authorizeUrl.searchParams.get('acr_values')).toBe(MFA);
    const record = await signInWith(browser, authorizeUrl, 'alice');
    expect(record.claims).toMatchObject({ sub: 'alice', acr: MFA, amr: ['pwd', 'otp'] });
    const session = (await (await browser.fetch(`${stack.baseUrl}/auth/session`)).json()) as {
      user: Record<string, unknown>;
    };
    expect(session.user).toMatchObject({ acr: MFA, amr: ['pwd', 'otp'] });

    up.reset();
    const res = await admin(browser);
    expect(res.status).toBe(200);
    await res.body?.cancel();
    expect(up.log).toHaveLength(1);
  });

  it('an IdP that ignores acr_values signs the user in with its own acr: the route stays 401 step_up_required', async () => {
    const browser = stack.browser();
    const authorizeUrl = await start(browser, `returnTo=%2F&acr_values=${encodeURIComponent(MFA)}`);
    // The IdP acts as if it had never been asked.
    authorizeUrl.searchParams.delete('acr_values');
    const record = await signInWith(browser, authorizeUrl, 'bob');
    expect(record.claims).toMatchObject({ sub: 'bob', acr: PWD, amr: ['pwd'] });

    up.reset();
    const res = await admin(browser);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; loginUrl: string };
    expect(body.error).toBe('step_up_required');
    expect(new URL(body.loginUrl, stack.baseUrl).searchParams.get('acr_values')).toBe(MFA);
    expect(up.log).toEqual([]);
  });

  it('prompt=none asking for more than the IdP session has: back to returnTo with login_error=login_required', async () => {
    const browser = stack.browser();
    // An IdP session from a password sign-in.
    const record = await signInWith(browser, await start(browser, 'returnTo=%2F'), 'alice');
    expect(record.claims.acr).toBe(PWD);
    const sid = sessionIdFromCookie(browser.jar.get(stack.baseUrl, 'bff-session')!);

    const hops = await browser.follow(
      `${stack.baseUrl}/auth/login?prompt=none&acr_values=${encodeURIComponent(MFA)}&returnTo=%2Fadmin`,
    );
    const callbackHop = hops.find((h) => h.url.pathname === '/auth/callback')!;
    expect(callbackHop.response.status).toBe(302);
    expect(callbackHop.response.headers.get('location')).toBe('/admin?login_error=login_required');
    // The password session is untouched.
    expect(sessionIdFromCookie(browser.jar.get(stack.baseUrl, 'bff-session')!)).toBe(sid);
    expect((await stack.parts.records.read(sid))?.record.claims.acr).toBe(PWD);
  });
});
