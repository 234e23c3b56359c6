/**
 * The whole journey in a real browser: `npm run demo` (on free ports, 5 s access tokens) driven by
 * headless Chromium through playwright-core. Sign in through the IdP's own pages, call the API, let the
 * access token expire, call again and get a new token with no reload or login, find no token anywhere
 * the page's scripts can reach, two users side by side, sign out, and a clean shutdown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type DemoProcess } from '../helpers/demo.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const ACCESS_TOKEN_TTL = 5;
/** A compact JWT anywhere in a string (header and payload are base64url JSON objects: "eyJ"). */
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*/;

// The browser globals the page functions below use (the project's TypeScript lib has no DOM).
interface PageStorage {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
}
declare const window: { marker?: string };
declare const document: { cookie: string; documentElement: { outerHTML: string } };
declare const localStorage: PageStorage;
declare const sessionStorage: PageStorage;

interface TokenInfo {
  jti: string;
  iat: number;
  exp: number;
}

let demo: DemoProcess;
let browser: Browser;
interface User {
  context: BrowserContext;
  page: Page;
  /** Script errors and console errors of the SPA's pages (a CSP violation shows up here). */
  errors: string[];
}
let alice: User;
let bob: User;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [demo, browser] = await Promise.all([startDemo({ accessTokenTtl: ACCESS_TOKEN_TTL }), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.kill();
  // What the demo printed, for a look after a failure (the folder is git-ignored).
  if (demo) writeFileSync(path.join(ARTIFACTS, 'demo-output.log'), `${demo.stdout()}\n${demo.stderr()}`);
});

async function newUser(): Promise<User> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Only the demo's own servers: the IdP's development login page imports a web font from the internet.
  await context.route(
    (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
    (route) => route.abort(),
  );
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    // Chrome reports every 4xx answer to fetch as "Failed to load resource"; the SPA expects 401s.
    if (msg.type() !== 'error' || msg.text().startsWith('Failed to load resource')) return;
    // On the SPA's pages (a CSP violation has no location of its own).
    if (page.url().startsWith(demo.url)) errors.push(`${page.url()}: ${msg.text()}`);
  });
  return { context, page, errors };
}

async function state(page: Page, name: string): Promise<void> {
  await page.locator(`body[data-state="${name}"]`).waitFor({ timeout: 10_000 });
}

/** From the SPA's sign-in button through the IdP's real login and consent pages back to the SPA. */
async function signIn(page: Page, login: string): Promise<void> {
  await page.goto(`${demo.url}/`);
  await state(page, 'signed-out');
  await page.click('#sign-in');
  await page.waitForURL(`http://127.0.0.1:${demo.ports.idp}/interaction/**`);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password works');
  await page.click('button[type="submit"]');
  await page.getByRole('button', { name: 'Continue' }).click(); // consent
  await state(page, 'signed-in');
}

/** Clicks a call button and waits for the SPA to show the answer; returns it and the token it saw. */
async function call(
  page: Page,
  button: '#call-api' | '#place-order',
): Promise<{ status: string; body: Record<string, unknown>; token: TokenInfo | undefined }> {
  const before = Number(await page.locator('#api-answer').getAttribute('data-calls'));
  await page.click(button);
  await page.locator(`#api-answer[data-calls="${before + 1}"]`).waitFor({ timeout: 10_000 });
  const body = JSON.parse(
    await page
      .locator('#api-result')
      .textContent()
      .then((t) => t ?? '{}'),
  ) as Record<string, unknown>;
  const claims = body.claims as TokenInfo | undefined;
  return {
    status: (await page.locator('#api-status').textContent()) ?? '',
    body,
    token: claims && { jti: claims.jti, iat: claims.iat, exp: claims.exp },
  };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('the demo in a real browser', () => {
  let first: TokenInfo;

  it('alice signs in through the IdP login and consent pages and sees her name', async () => {
    alice = await newUser();
    await signIn(alice.page, 'alice');
    await expect.poll(() => alice.page.locator('#user-name').textContent()).toBe('Alice Liddell');
    expect(await alice.page.locator('#user-email').textContent()).toBe('alice@example.com');
    expect(alice.page.url()).toBe(`${demo.url}/`);
  });

  it('calls the API through the gateway and sees the claims of the token the API verified', async () => {
    const read = await call(alice.page, '#call-api');
    expect(read.status).toContain('GET /api/orders → 200');
    const claims = read.body.claims as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'alice', client_id: 'bff-demo', aud: 'urn:bff-demo:api' });
    expect(String(claims.scope).split(' ')).toEqual(expect.arrayContaining(['api:read', 'api:write']));
    expect(read.token!.exp - read.token!.iat).toBe(ACCESS_TOKEN_TTL);
    first = read.token!;
    expect(await alice.page.locator('#token-jti').textContent()).toBe(first.jti);

    const write = await call(alice.page, '#place-order');
    expect(write.status).toContain('POST /api/orders → 201');
    expect(write.token!.jti).toBe(first.jti); // still the same, valid token
  });

  it('after the access token expired, the next call gets a new token: no reload, no login', async () => {
    const { page } = alice;
    await page.evaluate(() => (window.marker = 'same document'));
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const loginRequests: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/auth/login') || req.url().includes(`:${demo.ports.idp}/`))
        loginRequests.push(req.url());
    });

    // The SPA marks the token expired once its `exp` has passed.
    await page
      .locator('#token-exp', { hasText: '(expired)' })
      .waitFor({ timeout: (ACCESS_TOKEN_TTL + 5) * 1000 });
    expect(Date.now()).toBeGreaterThanOrEqual(first.exp * 1000);

    const again = await call(page, '#call-api');
    expect(again.status).toContain('GET /api/orders → 200');
    expect(again.token!.jti).not.toBe(first.jti);
    expect(again.token!.iat).toBeGreaterThan(first.iat);
    expect(again.token!.exp * 1000).toBeGreaterThan(Date.now());
    expect(await page.locator('#token-changed').isVisible()).toBe(true);
    expect(await page.locator('#history tr.new-token').count()).toBe(1);

    expect(await page.evaluate(() => window.marker)).toBe('same document');
    expect(navigations).toEqual([]);
    expect(loginRequests).toEqual([]);
  });

  it('no token is reachable from the page: empty document.cookie and storage, an HttpOnly session cookie', async () => {
    const { page, context } = alice;
    const seen = await page.evaluate(() => {
      const entries = (storage: PageStorage) =>
        Array.from({ length: storage.length }, (_, i) => {
          const key = storage.key(i) ?? '';
          return `${key}=${storage.getItem(key) ?? ''}`;
        });
      return {
        cookie: document.cookie,
        local: entries(localStorage),
        session: entries(sessionStorage),
        html: document.documentElement.outerHTML,
      };
    });
    expect(seen.cookie).toBe('');
    expect(seen.local).toEqual([]);
    expect(seen.session).toEqual([]);
    expect(seen.html).not.toMatch(JWT);

    const cookies = await context.cookies(demo.url);
    const session = cookies.find((c) => c.name === 'bff-session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(session!.value).not.toMatch(JWT);
    for (const c of cookies) expect(c.value).not.toMatch(JWT);

    await page.screenshot({ path: path.join(ARTIFACTS, 'signed-in.png'), fullPage: true });
    expect(alice.errors).toEqual([]); // e.g. no Content-Security-Policy violation
  });

  it('bob signs in in a second browser context, side by side with alice', async () => {
    bob = await newUser();
    await signIn(bob.page, 'bob');
    expect(await bob.page.locator('#user-name').textContent()).toBe('Bob Builder');
    expect(await bob.page.locator('#user-email').textContent()).toBe('bob@example.com');

    const read = await call(bob.page, '#call-api');
    expect(read.body.claims).toMatchObject({ sub: 'bob', scope: 'api:read' });
    const write = await call(bob.page, '#place-order');
    expect(write.status).toContain('POST /api/orders → 403');
    expect(write.body).toMatchObject({ error: 'insufficient_scope', scope: 'api:write' });

    // Alice's tab is still alice, after a reload too.
    await alice.page.reload();
    await state(alice.page, 'signed-in');
    expect(await alice.page.locator('#user-name').textContent()).toBe('Alice Liddell');
    expect((await call(alice.page, '#call-api')).body.claims).toMatchObject({ sub: 'alice' });
    await bob.page.screenshot({ path: path.join(ARTIFACTS, 'signed-in-bob.png'), fullPage: true });
  });

  it('alice signs out (gateway and IdP); bob stays signed in', async () => {
    const { page } = alice;
    await page.click('#sign-out');
    await page.waitForURL(`http://127.0.0.1:${demo.ports.idp}/session/end**`);
    await page.click('#logout-yes');
    // Back at the SPA's root; the IdP appends the logout request's `state`.
    await page.waitForURL((url) => url.origin === demo.url && url.pathname === '/');
    await state(page, 'signed-out');
    expect(await page.evaluate(() => fetch('/auth/session').then((r) => r.status))).toBe(401);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect((await alice.context.cookies(demo.url)).map((c) => c.name)).not.toContain('bff-session');

    await bob.page.reload();
    await state(bob.page, 'signed-in');
    expect(await bob.page.locator('#user-name').textContent()).toBe('Bob Builder');
    expect((await call(bob.page, '#call-api')).status).toContain('→ 200');
  });

  it('a 401 from /api offers to sign in again, which works without a new login (IdP single sign-on)', async () => {
    const { page, context } = bob;
    await context.clearCookies({ name: 'bff-session' });
    await page.click('#call-api');
    await state(page, 'session-ended');
    expect(await page.locator('#session-ended-reason').textContent()).toContain('401 unauthenticated');
    await page.click('#sign-in-again');
    await state(page, 'signed-in');
    expect(await page.locator('#user-name').textContent()).toBe('Bob Builder');
    expect(bob.errors).toEqual([]);
    expect(alice.errors).toEqual([]);
  });

  it('SIGTERM stops the demo and everything it started, exit 0; no token in its output', async () => {
    await browser.close();
    expect(await demo.stop('SIGTERM')).toBe(0);
    const ports = [demo.ports.gateway, demo.ports.idp, demo.ports.api];
    if (demo.ports.redis !== undefined) ports.push(demo.ports.redis);
    for (const port of ports) expect(await refused(port)).toBe(true);
    expect(demo.stdout()).toContain('stopped');
    expect(demo.stdout() + demo.stderr()).not.toMatch(JWT);
  });
});
