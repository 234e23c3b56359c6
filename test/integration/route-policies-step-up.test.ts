/**
 * `require.acr` and `require.maxAge` with real sign-ins at oidc-provider: 401 `step_up_required` with a
 * `loginUrl` that, followed in the same browser, gives a session the route accepts; `auth_time` aging
 * past `maxAge` (real time, awaited as a condition) asks again; `/auth/session` shows acr, amr, auth_time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TestBrowser } from '../helpers/browser.js';
import { sessionIdFromCookie, signIn, startStack, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp } from '../helpers/login.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';
import { waitUntil } from '../helpers/wait.js';

const MFA = 'urn:example:mfa';
const MAX_AGE_S = 2;

let up: RecordingUpstream;
let stack: Stack;

beforeAll(async () => {
  up = await startRecordingUpstream();
  stack = await startStack({
    routes: [
      { prefix: '/api/mfa', target: `${up.url}/v1`, token: 'user', require: { acr: [MFA] } },
      {
        prefix: '/api/admin',
        target: `${up.url}/admin`,
        token: 'user',
        require: { claims: { groups: ['orders-admins'] }, acr: [MFA], maxAge: '15m' },
      },
      { prefix: '/api/recent', target: `${up.url}/v1`, token: 'user', require: { maxAge: `${MAX_AGE_S}s` } },
      {
        prefix: '/api/mfa-ws',
        target: `${up.url}/socket`,
        token: 'user',
        websocket: true,
        require: { acr: [MFA] },
      },
    ],
  });
});
afterAll(async () => {
  await stack?.stop();
  await up?.stop();
});
beforeEach(() => up.reset());

function api(browser: TestBrowser, path: string): Promise<Response> {
  return browser.fetch(`${stack.baseUrl}${path}`, { headers: { 'x-csrf': '1' } });
}

/** The body of a step_up_required answer, checked for shape; the upstream was not asked. */
async function stepUp(res: Response): Promise<string> {
  expect(res.status).toBe(401);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as { error: string; message: string; loginUrl: string };
  expect(body).toEqual({
    error: 'step_up_required',
    message: expect.any(String) as string,
    loginUrl: expect.any(String) as string,
  });
  expect(up.log).toEqual([]);
  return body.loginUrl;
}

/**
 * What the SPA does with `loginUrl`: adds returnTo and navigates; the user signs in at the IdP.
 * `ignoreAcr`: the IdP never sees `acr_values`, as if it ignored them.
 */
async function followLoginUrl(
  browser: TestBrowser,
  loginUrl: string,
  login = 'alice',
  ignoreAcr = false,
): Promise<URLSearchParams> {
  const url = new URL(loginUrl, stack.baseUrl);
  url.searchParams.set('returnTo', '/orders');
  const res = await browser.fetch(url);
  expect(res.status).toBe(302);
  const authorizeUrl = new URL(res.headers.get('location')!, url);
  if (ignoreAcr) authorizeUrl.searchParams.delete('acr_values');
  const callbackUrl = await completeAtIdp(browser, authorizeUrl, login);
  const { response } = await callback(browser, callbackUrl, stack.baseUrl);
  expect(response.status).toBe(200);
  return authorizeUrl.searchParams;
}

async function sessionUser(browser: TestBrowser): Promise<Record<string, unknown>> {
  const res = await browser.fetch(`${stack.baseUrl}/auth/session`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { user: Record<string, unknown> }).user;
}

describe('require.acr', () => {
  it('asks a weaker sign-in for a step-up; after it, the route works with the new session', async () => {
    const alice = await signIn(stack, 'alice');
    expect((await alice.record()).claims.acr).not.toBe(MFA);
    const loginUrl = await stepUp(await alice.api('/api/mfa/orders'));
    expect(loginUrl).toBe('/auth/login?acr_values=urn%3Aexample%3Amfa');

    const asked = await followLoginUrl(alice.browser, loginUrl);
    expect(asked.get('acr_values')).toBe(MFA);
    const sid = sessionIdFromCookie(alice.browser.jar.get(stack.baseUrl, 'bff-session')!);
    expect(sid).not.toBe(alice.sid);
    const user = await sessionUser(alice.browser);
    expect(user).toMatchObject({ sub: 'alice', acr: MFA });
    expect(user.amr).toEqual(expect.any(Array));

    const res = await api(alice.browser, '/api/mfa/orders');
    expect(res.status).toBe(200);
    expect(up.log.map((r) => r.url)).toEqual(['/v1/orders']);
  });

  it('stays at 401 after a sign-in from an IdP that ignored acr_values', async () => {
    const carol = await signIn(stack, 'carol');
    const loginUrl = await stepUp(await carol.api('/api/mfa/orders'));
    await followLoginUrl(carol.browser, loginUrl, 'carol', true);
    const user = await sessionUser(carol.browser);
    expect(user.sub).toBe('carol');
    expect(user.acr).not.toBe(MFA);
    expect(await stepUp(await api(carol.browser, '/api/mfa/orders'))).toBe(loginUrl);
  });

  it('refuses a WebSocket upgrade the same way before the step-up, never a 101', async () => {
    const bob = await signIn(stack, 'bob');
    const refused = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/mfa-ws/live`, {
        headers: { cookie: bob.cookie, origin: stack.baseUrl },
      });
      ws.once('open', () => reject(new Error('the socket opened')));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      ws.once('error', reject);
    });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({
      error: 'step_up_required',
      message: expect.any(String) as string,
      loginUrl: `/auth/login?acr_values=${encodeURIComponent(MFA)}`,
    });
    expect(up.upgrades).toEqual([]);
  });
});

describe('require.maxAge', () => {
  it('never accepts a sign-in without auth_time; the step-up login asks max_age, which brings one', async () => {
    const bob = await signIn(stack, 'bob');
    expect((await bob.record()).claims.auth_time).toBeUndefined();
    const loginUrl = await stepUp(await bob.api('/api/recent/x'));
    expect(loginUrl).toBe(`/auth/login?max_age=${MAX_AGE_S}`);

    const asked = await followLoginUrl(bob.browser, loginUrl, 'bob');
    expect(asked.get('max_age')).toBe(String(MAX_AGE_S));
    const authTime = (await sessionUser(bob.browser)).auth_time as number;
    expect(authTime).toEqual(expect.any(Number));
    expect((await api(bob.browser, '/api/recent/x')).status).toBe(200);

    // Real time passes (no clock is faked): once auth_time is older than maxAge (in whole seconds, as
    // the IdP counts max_age), a step-up again.
    await waitUntil(
      'the sign-in to age past maxAge',
      async () => Math.floor(Date.now() / 1000) - authTime > MAX_AGE_S,
    );
    up.reset();
    const again = await stepUp(await api(bob.browser, '/api/recent/x'));
    expect(again).toBe(loginUrl);

    // The IdP's own session is as old: max_age makes it ask for the password again, with a new auth_time.
    await followLoginUrl(bob.browser, again, 'bob');
    expect((await sessionUser(bob.browser)).auth_time as number).toBeGreaterThan(authTime);
    expect((await api(bob.browser, '/api/recent/x')).status).toBe(200);
  });
});

describe("the README's recipe: admin routes need MFA", () => {
  it('refuses non-admins outright, steps admins up to MFA, then lets them through', async () => {
    const bob = await signIn(stack, 'bob');
    const forbidden = await bob.api('/api/admin/users');
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: 'forbidden' });

    const alice = await signIn(stack, 'alice');
    const loginUrl = await stepUp(await alice.api('/api/admin/users'));
    expect(loginUrl).toBe('/auth/login?acr_values=urn%3Aexample%3Amfa&max_age=900');
    await followLoginUrl(alice.browser, loginUrl);
    expect(await sessionUser(alice.browser)).toMatchObject({ acr: MFA, groups: ['orders-admins', 'staff'] });
    const res = await api(alice.browser, '/api/admin/users');
    expect(res.status).toBe(200);
    expect(up.log.map((r) => r.url)).toEqual(['/admin/users']);
  });
});
