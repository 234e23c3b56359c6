/**
 * The SPA client (client/bff-client.ts, served compiled as src/dev/spa/bff-client.js) in headless
 * Chromium against a real stack: gateway, redis-server, oidc-provider and an upstream API, the page
 * served by the gateway itself (FRONTEND_DIR). Signed out and in, login with returnTo through the
 * IdP's pages, api() reaching the upstream with X-CSRF, a 401 to onUnauthenticated or to sign-in,
 * the retry of a 503 while Redis is paused (and its bound), and logout through the IdP.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type * as BffModule from '../../client/bff-client.js';
import { launchChromium, loopbackContext } from '../helpers/chromium.js';
import { startStack, type Stack } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// What the test page exposes (the project's TypeScript lib has no DOM).
declare const window: { bff: typeof BffModule; unauthenticated: string[] };

let stack: Stack;
let upstream: Upstream;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let site: string;
/** Every request the page made to the gateway: method, path and the X-CSRF header it carried. */
let sent: Array<{ method: string; path: string; csrf: string | undefined }>;
const errors: string[] = [];

beforeAll(async () => {
  // The page: the client as the demo serves it, and a module that puts it on window (no inline
  // script: the gateway's default CSP has script-src 'self').
  site = mkdtempSync(path.join(tmpdir(), 'bff-client-e2e-'));
  copyFileSync(path.join(ROOT, 'src/dev/spa/bff-client.js'), path.join(site, 'bff-client.js'));
  writeFileSync(
    path.join(site, 'index.html'),
    '<!doctype html><html><head><script type="module" src="/page.js"></script></head><body></body></html>',
  );
  writeFileSync(
    path.join(site, 'page.js'),
    "import * as bff from './bff-client.js';\nwindow.bff = bff;\nwindow.unauthenticated = [];\n",
  );
  upstream = await startUpstream();
  [stack, browser] = await Promise.all([
    startStack({
      env: { FRONTEND_DIR: site },
      routes: [{ prefix: '/api', target: upstream.url, token: 'user', csrf: true }],
    }),
    launchChromium(),
  ]);
  // Only the local servers: the IdP's development login page imports a web font from the internet.
  context = await loopbackContext(browser);
  page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('request', (req: Request) => {
    const url = new URL(req.url());
    if (url.origin === stack.baseUrl)
      sent.push({ method: req.method(), path: url.pathname + url.search, csrf: req.headers()['x-csrf'] });
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await upstream?.stop();
  if (site) rmSync(site, { recursive: true, force: true });
});

beforeEach(() => {
  sent = [];
  upstream.reset();
});

async function open(pathname: string): Promise<void> {
  await page.goto(`${stack.baseUrl}${pathname}`);
  await page.waitForFunction(() => window.bff !== undefined);
  sent = []; // the page's own files
}

/**
 * Through the IdP's real login and consent pages to `target`, or straight back when the IdP still has
 * a session and a grant (single sign-on).
 */
async function throughIdp(login: string, target: string): Promise<void> {
  const idp = new URL(stack.idp.issuer).origin;
  await page.waitForURL((url) => url.origin === idp || url.href === target);
  if (new URL(page.url()).origin === idp) {
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any');
    await page.click('button[type="submit"]');
    await page.getByRole('button', { name: 'Continue' }).click(); // consent
    await page.waitForURL(target);
  }
  await page.waitForFunction(() => window.bff !== undefined);
  sent = [];
}

describe('the SPA client in a real browser', () => {
  it('getSession() is null while signed out, without any navigation', async () => {
    await open('/');
    expect(await page.evaluate(() => window.bff.getSession())).toBeNull();
    expect(sent).toEqual([{ method: 'GET', path: '/auth/session', csrf: '1' }]);
    expect(page.url()).toBe(`${stack.baseUrl}/`);
  });

  it('login(returnTo) goes through the IdP and back to returnTo; getSession() is then typed and filled', async () => {
    const login = page.waitForRequest((req) => req.url().includes('/auth/login'));
    await page.evaluate(() => window.bff.login('/reports?year=2026'));
    expect(new URL((await login).url()).search).toBe('?returnTo=%2Freports%3Fyear%3D2026');
    await throughIdp('alice', `${stack.baseUrl}/reports?year=2026`);
    const session = await page.evaluate(() => window.bff.getSession());
    expect(session).toMatchObject({
      authenticated: true,
      user: { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com' },
    });
    expect(session!.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('api() sends X-CSRF: 1 and the cookie; the upstream gets the user token (and no X-CSRF)', async () => {
    const status = await page.evaluate(async () => (await window.bff.api('/api/orders?page=1')).status);
    expect(status).toBe(200);
    expect(sent).toEqual([{ method: 'GET', path: '/api/orders?page=1', csrf: '1' }]);
    expect(upstream.requests.map((r) => r.url)).toEqual(['/orders?page=1']);
    expect(upstream.requests[0]!.headers.authorization).toMatch(/^Bearer \S+$/);
    expect(upstream.requests[0]!.headers['x-csrf']).toBeUndefined();
    // The same call without the client's header is refused before the upstream.
    const bare = await page.evaluate(() => fetch('/api/orders').then((r) => r.status));
    expect(bare).toBe(403);
    expect(upstream.requests).toHaveLength(1);
  });

  it('a 503 session_store_unavailable (Redis paused) is retried until the store is back: one upstream call', async () => {
    const answers: number[] = [];
    const onResponse = (res: { url(): string; status(): number }) => {
      if (res.url().endsWith('/api/retried')) answers.push(res.status());
    };
    page.on('response', onResponse);
    stack.redis.pause();
    try {
      const call = page.evaluate(async () => {
        const client = window.bff.createBffClient({
          retry: { retries: 8, baseDelayMs: 200, maxDelayMs: 1_000 },
        });
        return (await client.api('/api/retried', { method: 'POST', body: 'order-1' })).status;
      });
      await expect.poll(() => answers, { timeout: 10_000 }).toContain(503);
      expect(upstream.requests).toEqual([]);
      stack.redis.resume();
      expect(await call).toBe(200);
    } finally {
      stack.redis.resume();
      page.off('response', onResponse);
    }
    expect(answers[0]).toBe(503);
    expect(answers.at(-1)).toBe(200);
    expect(
      sent.filter((s) => s.path === '/api/retried').every((s) => s.method === 'POST' && s.csrf === '1'),
    ).toBe(true);
    expect(upstream.requests.map((r) => [r.method, r.url, r.bodyLength])).toEqual([['POST', '/retried', 7]]);
    expect(await page.evaluate(() => window.bff.getSession())).toMatchObject({ user: { sub: 'alice' } });
  });

  it('the retry is bounded: Redis paused throughout, 1 + retries attempts, then BffError 503', async () => {
    stack.redis.pause();
    let outcome: unknown;
    try {
      outcome = await page.evaluate(async () => {
        const client = window.bff.createBffClient({ retry: { retries: 1, baseDelayMs: 50 } });
        const err = await client.api('/api/bounded').catch((e: unknown) => e);
        return err instanceof window.bff.BffError ? { status: err.status, code: err.code } : String(err);
      });
    } finally {
      stack.redis.resume();
    }
    expect(outcome).toEqual({ status: 503, code: 'session_store_unavailable' });
    expect(sent.filter((s) => s.path === '/api/bounded')).toHaveLength(2);
    expect(upstream.requests).toEqual([]);
  });

  it('a 401 goes to onUnauthenticated (no navigation), or without one to sign-in with returnTo', async () => {
    await context.clearCookies({ name: 'bff-session' });
    const seen = await page.evaluate(async () => {
      const client = window.bff.createBffClient({
        onUnauthenticated: (e) => window.unauthenticated.push(e.code),
      });
      const err = await client.api('/api/orders').catch((e: unknown) => e);
      return { code: (err as { code?: string }).code, calls: window.unauthenticated };
    });
    expect(seen).toEqual({ code: 'unauthenticated', calls: ['unauthenticated'] });
    expect(page.url()).toBe(`${stack.baseUrl}/reports?year=2026`);
    expect(upstream.requests).toEqual([]);

    // The default: sign in again, back to the same page (the IdP still has alice's session).
    const login = page.waitForRequest((req) => req.url().includes('/auth/login'));
    // The page navigates away while api() is pending: its evaluation ends with the page.
    void page.evaluate(() => window.bff.api('/api/orders')).catch(() => undefined);
    expect(new URL((await login).url()).search).toBe(`?returnTo=${encodeURIComponent('/reports?year=2026')}`);
    await throughIdp('alice', `${stack.baseUrl}/reports?year=2026`);
    expect(await page.evaluate(() => window.bff.getSession())).toMatchObject({ user: { sub: 'alice' } });
  });

  it('logout() posts with X-CSRF, follows logoutUrl to the IdP, and comes back signed out', async () => {
    const idp = new URL(stack.idp.issuer).origin;
    void page.evaluate(() => window.bff.logout()).catch(() => undefined); // it navigates away
    await page.waitForURL((url) => url.origin === idp);
    expect(sent.find((s) => s.path === '/auth/logout')).toEqual({
      method: 'POST',
      path: '/auth/logout',
      csrf: '1',
    });
    expect((await context.cookies(stack.baseUrl)).map((c) => c.name)).not.toContain('bff-session');
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL((url) => url.origin === stack.baseUrl && url.pathname === '/');
    await page.waitForFunction(() => window.bff !== undefined);
    expect(await page.evaluate(() => window.bff.getSession())).toBeNull();
    expect(errors).toEqual([]);
  });
});
