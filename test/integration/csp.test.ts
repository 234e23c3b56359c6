/**
 * CONTENT_SECURITY_POLICY on real gateway answers: the status page, the /auth pages, FRONTEND_DIR
 * files and /api answers (the upstream's and the gateway's own) all carry the same policy (helmet's
 * strict default, the given string, or none with `off`); what FRONTEND_URL's dev server answers gets
 * none of it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const POLICY =
  "default-src 'self'; img-src 'self' https://avatars.example.com; connect-src 'self' https://errors.example.com";

let upstream: Upstream;
let strict: Stack;
let given: Stack;
let off: Stack;
let dev: Stack;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bff-csp-spa-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>spa</title>');
  writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
  upstream = await startUpstream();
  strict = await startStack({ env: { API_TARGET: upstream.url } });
  const shared = { sharedIdp: strict.idp, redis: strict.redis };
  [given, off, dev] = await Promise.all([
    startStack({
      ...shared,
      env: { API_TARGET: upstream.url, FRONTEND_DIR: dir, CONTENT_SECURITY_POLICY: POLICY },
    }),
    startStack({ ...shared, env: { API_TARGET: upstream.url, CONTENT_SECURITY_POLICY: 'off' } }),
    startStack({
      ...shared,
      env: { API_TARGET: upstream.url, FRONTEND_URL: upstream.url, CONTENT_SECURITY_POLICY: POLICY },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([given?.stop(), off?.stop(), dev?.stop()]);
  await strict?.stop();
  await upstream?.stop();
});

/** An answer of the gateway: status, CSP and one other helmet header, the body read. */
async function get(stack: Stack, path: string, init: RequestInit = {}) {
  const res = await fetch(`${stack.baseUrl}${path}`, { redirect: 'manual', ...init });
  const body = await res.text();
  return {
    status: res.status,
    csp: res.headers.get('content-security-policy'),
    nosniff: res.headers.get('x-content-type-options'),
    body,
  };
}

const HTML = { headers: { accept: 'text/html' } };
// A callback no login started: the gateway's own HTML error page.
const CALLBACK = '/auth/callback?code=c&state=s&iss=x';

/**
 * The answers every stack gives: an /auth page, JSON, health, the gateway's own 401 for /api and,
 * signed in, an upstream's /api answer (which sets no CSP of its own, so it gets the gateway's).
 */
async function ownAnswers(stack: Stack) {
  upstream.reset();
  const answers = {
    callbackPage: await get(stack, CALLBACK, HTML),
    session: await get(stack, '/auth/session'),
    health: await get(stack, '/healthz'),
    // No session: the gateway itself refuses the user-token route.
    apiRefused: await get(stack, '/api/orders', { headers: { 'x-csrf': '1' } }),
  };
  const alice = await signIn(stack, 'alice');
  const res = await alice.api('/api/orders');
  const apiUpstream = {
    status: res.status,
    csp: res.headers.get('content-security-policy'),
    nosniff: res.headers.get('x-content-type-options'),
    body: await res.text(),
  };
  expect(apiUpstream.status).toBe(200);
  expect(JSON.parse(apiUpstream.body)).toMatchObject({ method: 'GET', url: '/orders' });
  expect(upstream.bearerTokens()).toEqual([expect.any(String)]);
  expect(answers.callbackPage.status).toBe(400);
  expect(answers.callbackPage.body).toContain('Sign-in failed');
  expect(answers.session.status).toBe(401);
  expect(answers.apiRefused.status).toBe(401);
  return { ...answers, apiUpstream };
}

describe('CONTENT_SECURITY_POLICY', () => {
  it("unset: helmet's strict policy on the status page, the /auth pages and /api answers", async () => {
    const status = await get(strict, '/', HTML);
    expect(status.status).toBe(200);
    expect(status.body).toContain('Not signed in');
    const answers = [status, ...Object.values(await ownAnswers(strict))];
    for (const answer of answers) {
      expect(answer.csp).toContain("script-src 'self'");
      expect(answer.csp).toContain(`form-action 'self' ${new URL(strict.idp.issuer).origin}`);
      expect(answer.csp).not.toContain('upgrade-insecure-requests');
      expect(answer.nosniff).toBe('nosniff');
    }
  });

  it('given: exactly that policy on FRONTEND_DIR files, the /auth pages and /api answers', async () => {
    const files = [
      await get(given, '/', HTML),
      await get(given, '/app.js'),
      await get(given, '/orders/42', HTML), // client-side route: index.html
    ];
    for (const file of files) expect(file.status).toBe(200);
    expect(files[0]!.body).toContain('<title>spa</title>');
    expect(files[2]!.body).toContain('<title>spa</title>');
    for (const answer of [...files, ...Object.values(await ownAnswers(given))]) {
      expect(answer.csp).toBe(POLICY);
      expect(answer.nosniff).toBe('nosniff');
    }
  });

  it('off: no CSP header anywhere, the other security headers stay', async () => {
    const status = await get(off, '/', HTML);
    expect(status.status).toBe(200);
    for (const answer of [status, ...Object.values(await ownAnswers(off))]) {
      expect(answer.csp).toBeNull();
      expect(answer.nosniff).toBe('nosniff');
    }
  });

  it("FRONTEND_URL: the dev server's answers get no gateway CSP (nor other security headers)", async () => {
    upstream.reset();
    const page = await get(dev, '/', HTML);
    const script = await get(dev, '/src/main.tsx?t=1');
    expect(page.status).toBe(200);
    expect(JSON.parse(page.body)).toMatchObject({ method: 'GET', url: '/' });
    expect(JSON.parse(script.body)).toMatchObject({ url: '/src/main.tsx?t=1' });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/', '/src/main.tsx?t=1']);
    for (const answer of [page, script]) {
      expect(answer.csp).toBeNull();
      expect(answer.nosniff).toBeNull();
    }
    // The gateway's own answers in the same mode keep the policy.
    for (const answer of Object.values(await ownAnswers(dev))) expect(answer.csp).toBe(POLICY);
  });
});
