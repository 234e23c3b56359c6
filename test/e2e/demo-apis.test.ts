/**
 * `npm run demo` with its two APIs: the orders API (the session's token) and the billing API (a route
 * with its own `audience`: the gateway gets it its own token). DEMO_DPOP=1 binds both to the session's
 * DPoP key, and the demo APIs check the proofs the gateway signs.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { TestBrowser } from '../helpers/browser.js';
import { startDemo, type DemoProcess } from '../helpers/demo.js';
import { loginThroughIdp } from '../helpers/login.js';

let demo: DemoProcess | undefined;
afterEach(async () => {
  await demo?.kill();
  demo = undefined;
});

const CHROMIUM = existsSync('/usr/lib/chromium/chromium')
  ? '/usr/lib/chromium/chromium'
  : '/usr/bin/chromium';

async function tokensSeen(env: Record<string, string>) {
  demo = await startDemo({ env: { PATH: '/nonexistent', ...env } });
  const browser = new TestBrowser();
  expect((await loginThroughIdp(browser, demo.url)).callbackResponse.status).toBe(200);
  const seen = async (path: string) => {
    const res = await browser.fetch(`${demo!.url}${path}`, { headers: { 'x-csrf': '1' } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  return { orders: await seen('/api/token'), billing: await seen('/billing/token') };
}

describe('the demo: a token per API', () => {
  it('each API gets a token for its own audience', async () => {
    const { orders, billing } = await tokensSeen({});
    expect(orders).toMatchObject({ api: 'orders', aud: 'urn:bff-demo:api', scheme: 'Bearer', sub: 'alice' });
    expect(billing).toMatchObject({
      api: 'billing',
      aud: 'urn:bff-demo:billing',
      scheme: 'Bearer',
      sub: 'alice',
    });
    expect(billing.jti).not.toBe(orders.jti);
    expect(demo!.stdout()).toContain('billing  http://127.0.0.1:');
  });

  it('DEMO_DPOP=1: both tokens are bound to the session key and every call carries a proof', async () => {
    const { orders, billing } = await tokensSeen({ DEMO_DPOP: '1' });
    expect(orders).toMatchObject({ aud: 'urn:bff-demo:api', scheme: 'DPoP', jkt: expect.any(String) });
    expect(billing).toMatchObject({ aud: 'urn:bff-demo:billing', scheme: 'DPoP', jkt: orders.jkt });
    expect(demo!.stdout()).toContain('DPoP-bound');
  });

  it("the demo page's 'Tokens per API' card shows each API's token (real Chromium)", async () => {
    demo = await startDemo({ env: { PATH: '/nonexistent', DEMO_DPOP: '1' } });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox'],
    });
    try {
      const context = await browser.newContext();
      // Only the demo's own servers (the IdP's login page imports a web font from the internet).
      await context.route(
        (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
        (route) => route.abort(),
      );
      const page = await context.newPage();
      await page.goto(`${demo.url}/`);
      await page.click('#sign-in');
      await page.fill('input[name="login"]', 'bob');
      await page.fill('input[name="password"]', 'x');
      await page.click('button[type="submit"]');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.locator('body[data-state="signed-in"]').waitFor({ timeout: 10_000 });
      await page.click('#compare-tokens');
      const rows = page.locator('#api-tokens tr');
      await rows.nth(1).waitFor({ timeout: 10_000 });
      const cells = async (i: number) => rows.nth(i).locator('td').allTextContents();
      const [orders, billing] = [await cells(0), await cells(1)];
      expect(orders.slice(0, 3)).toEqual(['orders', 'urn:bff-demo:api', 'DPoP']);
      expect(billing.slice(0, 3)).toEqual(['billing', 'urn:bff-demo:billing', 'DPoP']);
      expect(billing[3]).not.toBe(orders[3]); // two tokens
      expect(billing[4]).toBe(orders[4]); // one key: the session's
    } finally {
      await browser.close();
    }
  });
});
