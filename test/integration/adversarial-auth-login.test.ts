/**
 * Adversarial corpus, /auth (issue 9, deliverable 6), login start: fast-check properties over
 * `returnTo`, the login parameters and the login cookie: a 302 to the IdP with exactly our parameters.
 * One real stack with two signed-in users (test/helpers/adversarial-auth-stack.ts). Every answer is a
 * contract answer (no 5xx, no stack trace, JSON errors per the table, HTML pages on /auth/login and
 * /auth/callback, nothing injected into a header), no session appears or ends, no pending login
 * survives that the test did not start. Replay a failure with FC_SEED=<seed>.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PendingLogins } from '../../src/session/pending-logins.js';
import { checkAnswer, rawRequest, type RawClient } from '../helpers/arbitraries.js';
import { useAdversarialAuthStack } from '../helpers/adversarial-auth-stack.js';
import { CLIENT_ID, type Stack } from '../helpers/gateway.js';

const world = useAdversarialAuthStack('login');
const { outcomes, count, runBatch, answered, loginCookie } = world;
let stack: Stack;
let host: string;
let client: RawClient;
let secrets: string[];
let pending: PendingLogins;
beforeAll(() => {
  ({ stack, host, client, secrets, pending } = world);
});

describe('adversarial corpus: /auth', () => {
  it('returnTo and login parameters: a 302 to the IdP with exactly our parameters, a same-origin returnTo', async () => {
    const hostileReturnTo = fc.oneof(
      fc.stringMatching(/^\/[A-Za-z0-9_~-]{1,10}(\/[A-Za-z0-9_~-]{1,10}){0,3}$/),
      fc.constantFrom(
        '//evil.example',
        '/\\evil.example',
        '/\t/evil.example',
        '/%2f%2fevil.example',
        '/%5cevil.example',
        '/..//evil.example',
        '/a/../../evil',
        '\\\\evil.example',
        'https://evil.example/',
        'http:evil.example',
        'javascript:alert(1)',
        'data:text/html,x',
        ' /x',
        '/x\r\nSet-Cookie: injected=1',
        '/x\nLocation: //evil',
        '/x?y=1#frag',
        '/ok?a=<script>',
        '/\u2028x',
        '/\u0000',
        '',
        '/',
      ),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.integer({ min: 2_000, max: 4_000 }).map((n) => `/${'r'.repeat(n)}`),
    );
    const extra = fc.array(
      fc.tuple(
        fc.constantFrom(
          'prompt',
          'max_age',
          'acr_values',
          'login_hint',
          'ui_locales',
          'redirect_uri',
          'client_id',
          'state',
          'nonce',
          'scope',
          'response_type',
          'code_challenge',
          'code_challenge_method',
          'request_uri',
          'returnTo',
        ),
        fc.oneof(
          fc.constantFrom('none', 'login', 'consent', '-1', '1.5', '60', 'https://evil.example/cb', 'evil'),
          fc.string({ maxLength: 20 }),
        ),
      ),
      { maxLength: 4 },
    );
    const property = fc.asyncProperty(
      fc.record({
        returnTo: fc.option(hostileReturnTo, { nil: undefined }),
        extra,
        cookie: loginCookie,
        // With TRUST_PROXY off, none of these may change the redirect URI or the cookies' form.
        forwarded: fc.subarray([
          'X-Forwarded-Host: evil.example',
          'X-Forwarded-Proto: https',
          'X-Forwarded-Port: 8443',
          'Forwarded: for=1.2.3.4;host=evil.example;proto=https',
          'X-Forwarded-For: 1.2.3.4',
          'X-Original-URL: /auth/callback',
        ]),
      }),
      async ({ returnTo, extra: params, cookie, forwarded }) => {
        count('login');
        const query = new URLSearchParams([
          ...(returnTo === undefined ? [] : [['returnTo', returnTo] as [string, string]]),
          ...params,
        ]);
        const target = `/auth/login?${query.toString()}`;
        const what = JSON.stringify({ returnTo, params, cookie: cookie?.slice(0, 80), forwarded });
        const lines = [...(cookie ? [`Cookie: ${cookie}`] : []), ...forwarded];
        const res = answered(await client.send(rawRequest('GET', target, host, lines)), what);
        outcomes.add('login', String(res.status));
        checkAnswer(res, { secrets }, what);
        for (const [name] of res.rawHeaders) expect(name.toLowerCase(), what).not.toMatch(/^(x|injected)$/);
        if (res.status !== 302) {
          // Oversized heads (Node's 16 KiB limit) and NUL bytes are refused; nothing else.
          expect([400, 431], what).toContain(res.status);
          expect(target.length + (cookie?.length ?? 0) > 8_000 || /%00/.test(target), what).toBe(true);
          return;
        }
        const location = new URL(res.header('location')!);
        expect(`${location.origin}${location.pathname}`.startsWith(stack.idp.issuer), what).toBe(true);
        const p = location.searchParams;
        for (const name of [
          'client_id',
          'redirect_uri',
          'response_type',
          'state',
          'nonce',
          'scope',
          'code_challenge',
          'code_challenge_method',
        ])
          expect(p.getAll(name), `${name}: ${what}`).toHaveLength(1);
        expect(p.get('client_id')).toBe(CLIENT_ID);
        expect(p.get('redirect_uri')).toBe(`${stack.baseUrl}/auth/callback`);
        expect(p.get('response_type')).toBe('code');
        expect(p.get('code_challenge_method')).toBe('S256');
        expect(p.get('scope')).toBe('openid profile email offline_access');
        expect(p.has('request_uri')).toBe(false);
        expect(p.has('returnTo')).toBe(false);
        const allowed = new Set([
          'client_id',
          'redirect_uri',
          'response_type',
          'state',
          'nonce',
          'scope',
          'code_challenge',
          'code_challenge_method',
          'prompt',
          'max_age',
          'acr_values',
          'login_hint',
          'ui_locales',
          'resource',
        ]);
        for (const name of p.keys()) expect(allowed.has(name), `${name} passed on: ${what}`).toBe(true);
        for (const prompt of p.getAll('prompt'))
          expect(['none', 'login', 'consent', 'select_account']).toContain(prompt);
        for (const maxAge of p.getAll('max_age')) expect(maxAge, what).toMatch(/^\d+$/);
        const setCookies = res.values('set-cookie');
        expect(setCookies, what).toHaveLength(1);
        expect(setCookies[0], what).toMatch(
          /^bff-login=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
        );
        const loginId = /^bff-login=([^;]+)/.exec(setCookies[0]!)![1]!;
        const attempt = await pending.take(loginId, p.get('state')!);
        expect(attempt, what).toBeDefined();
        const stored = attempt!.returnTo;
        expect(
          stored.startsWith('/') && !stored.startsWith('//') && !stored.startsWith('/\\'),
          `${stored}: ${what}`,
        ).toBe(true);
        // eslint-disable-next-line no-control-regex -- control characters are the point
        expect(stored, what).not.toMatch(/[\u0000-\u001f\u007f\\]/);
        expect(new URL(stored, stack.baseUrl).origin).toBe(stack.baseUrl);
        const returnTos = query.getAll('returnTo');
        if (
          returnTos.length === 1 &&
          returnTos[0]!.length <= 2048 &&
          /^\/[A-Za-z0-9_~-]+(\/[A-Za-z0-9_~-]+)*$/.test(returnTos[0]!)
        )
          expect(stored, what).toBe(returnTos[0]);
      },
    );
    await runBatch('login', 1500, property);
  }, 120_000);
});
