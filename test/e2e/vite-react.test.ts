/**
 * React development through FRONTEND_URL: a real Vite dev server with @vitejs/plugin-react behind the
 * gateway (default, strict CSP), driven by headless Chromium. The page renders through the gateway,
 * which needs plugin-react's inline preamble to run: it does only because the gateway adds no CSP to
 * what the dev server answers. An edit to the component hot-updates the page over the HMR WebSocket
 * the gateway forwards, and the page's /api call reaches the upstream with the session's token.
 */
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loopbackContext } from '../helpers/chromium.js';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/vite-react');

// The browser globals the page function below uses (the project's TypeScript lib has no DOM).
declare const window: { marker?: string };

let app: string;
let upstream: Upstream;
let stack: Stack;
let vite: ViteDevServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let alice: SignedIn;
/** Settles when Vite's file watcher has scanned the app (an edit before that could go unseen). */
let watching: Promise<unknown>;
const errors: string[] = [];
const sockets: string[] = [];

beforeAll(async () => {
  // A copy the test may edit, inside the repository so `react` resolves from its node_modules
  // (test-artifacts/ is git-ignored).
  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  app = mkdtempSync(path.join(ROOT, 'test-artifacts', 'vite-react-'));
  cpSync(FIXTURE, app, { recursive: true });

  const vitePort = await freePort();
  [upstream, browser] = await Promise.all([startUpstream(), launchChromium()]);
  stack = await startStack({
    env: { FRONTEND_URL: `http://127.0.0.1:${vitePort}`, API_TARGET: upstream.url },
  });
  const gatewayPort = Number(new URL(stack.baseUrl).port);
  vite = await createServer({
    root: app,
    configFile: false,
    cacheDir: path.join(app, '.vite'),
    logLevel: 'silent',
    plugins: [
      react(),
      // The earliest moment to listen: chokidar's first scan may end before createServer returns.
      { name: 'watch-ready', configureServer: (server) => void (watching = once(server.watcher, 'ready')) },
    ],
    server: {
      host: '127.0.0.1',
      port: vitePort,
      strictPort: true,
      // The page's HMR client dials the gateway's origin, which forwards the upgrade to this server.
      hmr: { protocol: 'ws', host: '127.0.0.1', clientPort: gatewayPort },
    },
  });
  await vite.listen();

  alice = await signIn(stack, 'alice');
  context = await loopbackContext(browser);
  await context.addCookies([
    { name: 'bff-session', value: alice.browser.jar.get(stack.baseUrl, 'bff-session')!, url: stack.baseUrl },
  ]);
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    // Chromium's own favicon request is the one answer the page did not ask for.
    if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico')) errors.push(msg.text());
  });
  page.on('websocket', (ws) => sockets.push(ws.url()));
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await vite?.close();
  await stack?.stop();
  await upstream?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('a Vite + React dev server behind FRONTEND_URL, in Chromium', () => {
  it('renders the React page through the gateway, which adds no CSP to the dev server answers', async () => {
    const answer = await page.goto(`${stack.baseUrl}/`);
    expect(answer?.status()).toBe(200);
    // The page renders. Script errors, if any, show in the failure: under the gateway's strict policy
    // Chromium blocks the inline preamble ("Executing inline script violates ... 'script-src 'self''")
    // and the component module then fails ("$RefreshSig$ is not defined").
    await expect
      .poll(async () => (errors.length > 0 ? errors : await page.locator('#greeting').textContent()), {
        timeout: 10_000,
      })
      .toBe('Hello from the dev server');
    // It could only because the index the dev server answered, with plugin-react's inline preamble,
    // carries no gateway CSP; the gateway's own answers keep theirs.
    expect(await answer?.text()).toContain('injectIntoGlobalHook(window)');
    expect(answer?.headers()['content-security-policy']).toBeUndefined();
    expect((await fetch(`${stack.baseUrl}/auth/session`)).headers.get('content-security-policy')).toMatch(
      /script-src 'self'/,
    );
    expect(errors).toEqual([]);
  });

  it('hot-updates the component after an edit, over the HMR WebSocket the gateway forwards', async () => {
    // The HMR client connected to the gateway's port, never straight to the dev server's.
    await expect.poll(() => sockets.length).toBeGreaterThan(0);
    for (const url of sockets) expect(new URL(url).port).toBe(new URL(stack.baseUrl).port);

    await page.click('#count');
    await page.click('#count');
    await expect.poll(() => page.locator('#count').textContent()).toBe('clicked 2');
    await page.evaluate(() => (window.marker = 'same document'));

    await watching;
    const file = path.join(app, 'src/App.jsx');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace("'Hello from the dev server'", "'Hot-updated through the gateway'"),
    );
    await page
      .locator('#greeting', { hasText: 'Hot-updated through the gateway' })
      .waitFor({ timeout: 15_000 });

    // A Fast Refresh update, not a reload: same document, component state kept.
    expect(await page.evaluate(() => window.marker)).toBe('same document');
    expect(await page.locator('#count').textContent()).toBe('clicked 2');
    expect(errors).toEqual([]);
  });

  it("calls /api from the page: the upstream gets the request with the session's access token", async () => {
    upstream.reset();
    await page.click('#call-api');
    await expect.poll(() => page.locator('#api-answer').textContent()).toBe('200 GET /hello');
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.bearerTokens()).toEqual([(await alice.record()).tokens.accessToken]);
    expect(errors).toEqual([]);
  });
});
