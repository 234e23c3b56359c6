/**
 * Adversarial corpus, /auth (issue 9, deliverable 6), methods and CSRF: logout without a same-origin
 * proof is refused (the session lives on), and any method with any body on any /auth path or unknown
 * path gets a contract answer.
 * One real stack with two signed-in users (test/helpers/adversarial-auth-stack.ts). Every answer is a
 * contract answer (no 5xx, no stack trace, JSON errors per the table, HTML pages on /auth/login and
 * /auth/callback, nothing injected into a header), no session appears or ends, no pending login
 * survives that the test did not start. Replay a failure with FC_SEED=<seed>.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PendingLogins } from '../../src/session/pending-logins.js';
import {
  anyMethod,
  bodyBytes,
  checkAnswer,
  errorCode,
  rawRequest,
  type RawClient,
} from '../helpers/arbitraries.js';
import { useAdversarialAuthStack, type AuthCorpusUser } from '../helpers/adversarial-auth-stack.js';
import { type Stack } from '../helpers/gateway.js';

const world = useAdversarialAuthStack('methods');
const { outcomes, count, runBatch, expectUsersSignedIn, answered } = world;
let stack: Stack;
let users: AuthCorpusUser[];
let host: string;
let client: RawClient;
let secrets: string[];
let pending: PendingLogins;
beforeAll(() => {
  ({ stack, users, host, client, secrets, pending } = world);
});

describe('adversarial corpus: /auth', () => {
  it('logout without a same-origin proof: refused, and the session lives on', async () => {
    const property = fc.asyncProperty(
      fc.record({
        origin: fc.option(
          fc.oneof(
            fc.constantFrom('null', 'https://evil.example', `http://127.0.0.1`, 'http://localhost'),
            fc.webUrl().map((url) => new URL(url).origin),
            fc.constant('SAME-HOST-OTHER-PORT'),
          ),
          { nil: undefined },
        ),
        fetchSite: fc.option(fc.constantFrom('cross-site', 'same-site', 'none', 'garbage'), {
          nil: undefined,
        }),
        csrf: fc.option(fc.constantFrom('0', '', 'true', '1, 1', 'yes', '11'), { nil: undefined }),
        form: fc.boolean(),
        who: fc.constantFrom(0, 1),
      }),
      async ({ origin, fetchSite, csrf, form, who }) => {
        count('logout-csrf');
        const u = users[who]!;
        const otherPort = `http://127.0.0.1:${Number(new URL(stack.baseUrl).port) + 1}`;
        const lines = [
          `Cookie: ${u.who.cookie}`,
          ...(origin ? [`Origin: ${origin === 'SAME-HOST-OTHER-PORT' ? otherPort : origin}`] : []),
          ...(fetchSite ? [`Sec-Fetch-Site: ${fetchSite}`] : []),
          ...(csrf !== undefined ? [`X-CSRF: ${csrf}`] : []),
          ...(form
            ? ['Content-Type: application/x-www-form-urlencoded', 'Content-Length: 0']
            : ['Content-Length: 0']),
        ];
        const what = JSON.stringify({ origin, fetchSite, csrf, form, who });
        const res = answered(await client.send(rawRequest('POST', '/auth/logout', host, lines)), what);
        outcomes.add('logout-csrf', `${res.status} ${errorCode(res) ?? ''}`);
        checkAnswer(res, { secrets }, what);
        expect(res.status, `${what} -> ${res.text}`).toBe(403);
        expect(errorCode(res), what).toBe('csrf_required');
        expect(res.values('set-cookie').join(' '), what).not.toMatch(/bff-session=;/);
        expect(await stack.redis.client.exists(stack.parts.keys.session(u.who.sid)), what).toBe(1);
      },
    );
    await runBatch('logout-csrf', 300, property);
  }, 120_000);

  it('any method, any body, on /auth paths and unknown paths: a contract answer', async () => {
    const property = fc.asyncProperty(
      fc.record({
        method: anyMethod,
        path: fc.constantFrom(
          '/auth/login',
          '/auth/callback',
          '/auth/session',
          '/auth/logout',
          '/auth/backchannel-logout',
          '/auth',
          '/auth/x',
          '/nope',
          '/',
          '/healthz',
          '/readyz',
        ),
        body: bodyBytes,
        type: fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
        ),
        who: fc.constantFrom(0, 1, undefined),
        csrf: fc.boolean(),
        origin: fc.option(fc.constantFrom('ORIGIN', 'https://evil.example', 'null'), { nil: undefined }),
      }),
      async ({ method, path, body, type, who, csrf, origin }) => {
        count('auth-methods');
        // POST /auth/logout with a session would end it (a legitimate logout): sent without the cookie.
        const u =
          who === undefined || (method === 'POST' && path === '/auth/logout') ? undefined : users[who];
        const lines = [
          `Content-Type: ${type}`,
          `Content-Length: ${body.length}`,
          ...(u ? [`Cookie: ${u.who.cookie}`] : []),
          ...(csrf ? ['X-CSRF: 1'] : []),
          ...(origin ? [`Origin: ${origin === 'ORIGIN' ? stack.baseUrl : origin}`] : []),
        ];
        const what = JSON.stringify({ method, path, length: body.length, who, csrf, origin });
        const res = await client.send(rawRequest(method, path, host, lines, Buffer.from(body)), {
          method,
          fresh: true,
        });
        if (res === 'closed') throw new Error(`no answer: ${what}`);
        outcomes.add('auth-methods', String(res.status));
        checkAnswer(res, { secrets, method }, what);
        if (res.status === 302) {
          expect(path).toBe('/auth/login');
          await pending.take(
            /bff-login=([^;]+)/.exec(res.header('set-cookie')!)![1]!,
            new URL(res.header('location')!).searchParams.get('state')!,
          );
        }
        await expectUsersSignedIn();
      },
    );
    await runBatch('auth-methods', 800, property);
  }, 120_000);
});
