/**
 * A hung Redis answers 503 (a command timeout, not a hang) and loses nothing; no token, code, session
 * id or cookie value ever appears in a log line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SECRET, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp, loginThroughIdp, startLogin } from '../helpers/login.js';
import { useLoginStack } from '../helpers/login-stack.js';

const world = useLoginStack();
const { secrets, storedSession } = world;
let stack: Stack;
beforeAll(() => {
  stack = world.stack;
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
