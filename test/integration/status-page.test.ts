import { afterAll, beforeAll, expect, it } from 'vitest';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

it('without a frontend, / says nobody is signed in and links to the sign-in', async () => {
  const res = await fetch(`${stack.baseUrl}/`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  const html = await res.text();
  expect(html).toContain('Not signed in');
  expect(html).toContain('href="/auth/login?returnTo=%2F"');
  expect(html).not.toContain('<script');
});

it('shows who is signed in, signs out with a plain form post, and other paths stay JSON 404', async () => {
  const alice = await signIn(stack, 'alice');
  const html = await (await fetch(`${stack.baseUrl}/`, { headers: { cookie: alice.cookie } })).text();
  expect(html).toContain('<strong id="user-name">Alice Liddell</strong>');
  expect(html).toContain('<form method="post" action="/auth/logout">');
  // The form post a browser sends from this page: same-origin Origin, no X-CSRF.
  const out = await fetch(`${stack.baseUrl}/auth/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      cookie: alice.cookie,
      origin: stack.baseUrl,
      'content-type': 'application/x-www-form-urlencoded',
    },
  });
  expect(out.status).toBe(303);
  const after = await (await fetch(`${stack.baseUrl}/`, { headers: { cookie: alice.cookie } })).text();
  expect(after).toContain('Not signed in');

  const other = await fetch(`${stack.baseUrl}/nothing-here`);
  expect(other.status).toBe(404);
  expect(await other.json()).toEqual({ error: 'not_found', message: expect.any(String) });
});
