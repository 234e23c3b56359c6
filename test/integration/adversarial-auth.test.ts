/**
 * Adversarial corpus, /auth (issue 9, deliverable 6): fast-check properties over `returnTo` and the
 * login parameters, the login cookie, callback parameters (random, replayed, foreign, oversized,
 * duplicated), back-channel logout tokens (JWT-shaped garbage, unsigned, wrongly signed, signed by the
 * IdP's own key with one defect), and any method on any /auth path. One real stack, two signed-in users.
 *
 * Every answer is a contract answer (no 5xx, no stack trace, JSON errors per the table, HTML pages on
 * /auth/login and /auth/callback, nothing injected into a header), no session appears or ends, no
 * pending login survives that the test did not start. Replay a failure with FC_SEED=<seed>.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PendingLogins } from '../../src/session/pending-logins.js';
import {
  anyMethod,
  bodyBytes,
  checkAnswer,
  configureCorpus,
  Outcomes,
  errorCode,
  RawClient,
  rawRequest,
} from '../helpers/arbitraries.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  SESSION_SECRET,
  signIn,
  startStack,
  type SignedIn,
  type Stack,
} from '../helpers/gateway.js';
import { getSigningKey } from '../helpers/idp.js';
import { decodeHtml } from '../helpers/login.js';
import type { RawResponse } from '../helpers/raw-http.js';

configureCorpus();

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let stack: Stack;
let users: Array<{ who: SignedIn; sub: string; idpSid: string | undefined }>;
let host: string;
let client: RawClient;
let secrets: string[];
let pending: PendingLogins;
type SigningKey = Parameters<SignJWT['sign']>[0];
let idpKey: SigningKey;
let foreignKey: SigningKey;
const ran: Record<string, number> = {};
const outcomes = new Outcomes();
const findings = new Set<string>();

beforeAll(async () => {
  stack = await startStack({
    backchannel: true,
    idp: { accessTokenTtl: 3600 },
    loginRateLimit: 1_000_000,
    env: { LOG_LEVEL: 'warn' },
  });
  host = new URL(stack.baseUrl).host;
  client = new RawClient(Number(new URL(stack.baseUrl).port));
  pending = new PendingLogins(stack.parts.stores.pendingLogins, stack.parts.vault, stack.parts.keys);
  users = [];
  secrets = [SESSION_SECRET, CLIENT_SECRET];
  for (const login of ['alice', 'bob']) {
    const who = await signIn(stack, login);
    const record = await who.record();
    users.push({ who, sub: record.sub, idpSid: record.idpSid });
    const value = /bff-session=([^;]+)/.exec(who.cookie)![1]!;
    secrets.push(value, decodeURIComponent(value), who.sid, record.tokens.accessToken);
    if (record.tokens.refreshToken) secrets.push(record.tokens.refreshToken);
    if (record.tokens.idToken) secrets.push(record.tokens.idToken);
  }
  idpKey = await importJWK(await getSigningKey(), 'RS256');
  foreignKey = (await generateKeyPair('RS256')).privateKey;
}, 60_000);

afterAll(async () => {
  const total = Object.values(ran).reduce((a, b) => a + b, 0);
  console.log(`adversarial (auth): ${total} cases ${JSON.stringify(ran)}\n${outcomes.summary()}`);
  if (findings.size > 0)
    console.log(
      `adversarial (auth): answers outside the contract's words, reported (not failed):\n${[...findings].join('\n')}`,
    );
  client?.drop();
  await stack?.stop();
});

const count = (name: string) => {
  ran[name] = (ran[name] ?? 0) + 1;
};
const keyCount = async (pattern: string) => (await stack.redis.client.keys(pattern)).length;

/** Runs a property, then: /healthz answers, no session appeared or ended, no pending login is left over. */
async function runBatch(
  name: string,
  numRuns: number,
  property: fc.IAsyncProperty<[unknown]>,
): Promise<void> {
  const sessions = await keyCount('bff:*:session');
  const logins = await keyCount('bff:*:login:*');
  const startedAt = ran[name] ?? 0;
  await fc.assert(property, { numRuns });
  expect((ran[name] ?? 0) - startedAt).toBeGreaterThanOrEqual(numRuns);
  const health = await client.send(rawRequest('GET', '/healthz', host, []));
  expect(health === 'closed' ? 'closed' : health.status).toBe(200);
  expect(await keyCount('bff:*:session')).toBe(sessions);
  expect(await keyCount('bff:*:login:*')).toBe(logins);
  await expectUsersSignedIn();
}

async function expectUsersSignedIn(): Promise<void> {
  for (const u of users) expect(await stack.redis.client.exists(stack.parts.keys.session(u.who.sid))).toBe(1);
}

function answered(res: RawResponse | 'closed', what: string): RawResponse {
  if (res === 'closed') throw new Error(`connection closed without an answer: ${what}`);
  return res;
}

/** A login cookie (`bff-login`) value: the format the gateway issues, or not. */
const loginCookieValue = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
  fc.stringMatching(/^[A-Za-z0-9_=.%-]{0,60}$/),
  fc.integer({ min: 100, max: 6_000 }).map((n) => 'L'.repeat(n)),
);

const loginCookie = fc.option(
  fc
    .array(loginCookieValue, { minLength: 1, maxLength: 2 })
    .map((vs) => vs.map((v) => `bff-login=${v}`).join('; ')),
  { nil: undefined },
);

/** Login attempts the corpus started: taken after each case, so none is left over in the store. */
const started: Array<{ loginId: string; state: string }> = [];

/** Starts a login (as a browser with login cookie `cookie`, or a new one); returns its cookie and state. */
async function startLogin(cookie: string | undefined): Promise<{ cookie: string; state: string }> {
  const res = answered(
    await client.send(rawRequest('GET', '/auth/login', host, cookie ? [`Cookie: ${cookie}`] : [])),
    'login start',
  );
  expect(res.status).toBe(302);
  const loginId = /bff-login=([^;]+)/.exec(res.header('set-cookie') ?? '')![1]!;
  const state = new URL(res.header('location')!).searchParams.get('state')!;
  started.push({ loginId, state });
  return { cookie: `bff-login=${loginId}`, state };
}

async function takeStartedLogins(): Promise<void> {
  for (const { loginId, state } of started.splice(0)) await pending.take(loginId, state);
}

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

  it('callback parameters: random, foreign, replayed, oversized or duplicated, never a session and never a 5xx', async () => {
    let browser: string | undefined;
    const spent: string[] = [];
    const value = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,64}$/),
      fc.constantFrom(
        '<script>alert(1)</script>',
        '"><img src=x>',
        'access_denied',
        'login_required',
        '%00',
        '\r\n',
        "'",
      ),
      fc.string({ maxLength: 30 }),
      fc.integer({ min: 1_000, max: 9_000 }).map((n) => 'p'.repeat(n)),
    );
    const param = (name: string, v: fc.Arbitrary<string>) =>
      fc.array(v, { maxLength: 2 }).map((vs) => vs.map((x): [string, string] => [name, x]));
    const property = fc.asyncProperty(
      fc.record({
        mode: fc.constantFrom('none', 'random-cookie', 'fresh', 'fresh', 'replayed', 'foreign'),
        code: param('code', value),
        state: param('state', value),
        iss: fc.oneof(
          { weight: 2, arbitrary: fc.constant<Array<[string, string]>>([['iss', 'ISSUER']]) },
          { weight: 1, arbitrary: param('iss', fc.oneof(fc.constant('ISSUER'), value)) },
        ),
        error: param('error', value),
        description: param('error_description', value),
        useState: fc.boolean(),
        cookie: loginCookie,
      }),
      async ({ mode, code, state, iss, error, description, useState, cookie }) => {
        count('callback');
        let cookieHeader = mode === 'random-cookie' ? cookie : undefined;
        const params: Array<[string, string]> = [...code, ...state, ...error, ...description];
        params.push(...iss.map(([n, v]): [string, string] => [n, v === 'ISSUER' ? stack.idp.issuer : v]));
        if (mode === 'fresh' || mode === 'replayed' || mode === 'foreign') {
          const attempt = await startLogin(mode === 'foreign' ? undefined : browser);
          if (mode !== 'foreign') browser = attempt.cookie;
          cookieHeader = browser;
          if (mode === 'foreign') cookieHeader = (await startLogin(undefined)).cookie;
          const s = mode === 'replayed' && spent.length > 0 ? spent[0]! : attempt.state;
          if (useState || mode !== 'fresh') params.unshift(['state', s]);
          spent.push(attempt.state);
          if (spent.length > 5) spent.shift();
        }
        const target = `/auth/callback?${new URLSearchParams(params).toString()}`;
        const what = JSON.stringify({ mode, params: params.map(([n, v]) => [n, v.slice(0, 60)]) });
        const res = answered(
          await client.send(rawRequest('GET', target, host, cookieHeader ? [`Cookie: ${cookieHeader}`] : [])),
          what,
        );
        await takeStartedLogins();
        checkAnswer(res, { secrets }, what);
        expect(res.values('set-cookie').join(' '), what).not.toMatch(/bff-session=[^;]/);
        if (
          res.status === 431 ||
          (res.status === 400 && /%00/.test(target) && errorCode(res) === 'bad_request')
        )
          return;
        expect(res.status, what).toBe(400);
        expect(res.header('content-type'), what).toMatch(/^text\/html/);
        expect(res.text, what).toContain('href="/auth/login"');
        const pageCode = decodeHtml(/<code id="error-code">([^<]*)<\/code>/.exec(res.text)?.[1] ?? '');
        const idpErrors = params.filter(([n]) => n === 'error').map(([, v]) => v);
        outcomes.add('callback', idpErrors.includes(pageCode) ? 'the IdP error' : pageCode);
        // An IdP error that is not a plain code (`[a-z_]+`) is named `invalid_request` instead of echoed.
        const known = [
          'invalid_state',
          'login_expired',
          'exchange_failed',
          'invalid_issuer',
          'invalid_request',
        ];
        expect([...known, ...idpErrors.filter((e) => /^[a-z_]{1,64}$/.test(e))], what).toContain(pageCode);
        for (const [, v] of params)
          if (v.length > 3 && /[<>"]/.test(v))
            expect(res.text.includes(v), `unescaped ${v}: ${what}`).toBe(false);
      },
    );
    await runBatch('callback', 1000, property);
  }, 120_000);

  it('back-channel logout tokens: garbage, unsigned, wrongly signed or defective are a 400 invalid_request', async () => {
    const b64 = (v: unknown) =>
      Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const defect = fc.constantFrom(
      'none',
      'no-exp',
      'old-iat',
      'future-iat',
      'expired',
      'nonce',
      'no-events',
      'wrong-events',
      'wrong-aud',
      'wrong-iss',
      'no-jti',
      'no-sid-sub',
      'no-iat',
    );
    const signer = fc.constantFrom(
      'idp-rs256',
      'foreign-rs256',
      'alg-none',
      'hs256-client-secret',
      'idp-key-wrong-kid',
      'bad-signature',
    );
    const shaped = fc.oneof(
      fc
        .array(fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/), { minLength: 1, maxLength: 5 })
        .map((parts) => parts.join('.')),
      fc
        .record({ h: fc.jsonValue(), p: fc.jsonValue(), s: fc.string({ maxLength: 20 }) })
        .map(({ h, p, s }) => `${b64(h)}.${b64(p)}.${b64(s)}`),
      fc.string({ maxLength: 100 }),
    );
    const property = fc.asyncProperty(
      fc.record({
        kind: fc.constantFrom('shaped', 'signed', 'signed', 'signed'),
        shaped,
        defect,
        signer,
        target: fc.constantFrom(0, 1),
        bySid: fc.boolean(),
        envelope: fc.constantFrom(
          'form',
          'form',
          'form-twice',
          'json',
          'no-type',
          'oversized',
          'many-fields',
        ),
      }),
      async ({ kind, shaped: garbage, defect: d, signer: sig, target, bySid, envelope }) => {
        count('backchannel');
        const u = users[target]!;
        let token = garbage;
        let legit = false;
        if (kind === 'signed') {
          const now = Math.floor(Date.now() / 1000);
          const claims: JWTPayload = {
            iss: stack.idp.issuer,
            aud: CLIENT_ID,
            iat: now,
            exp: now + 120,
            jti: randomUUID(),
            events: { [EVENT]: {} },
          };
          // Only the IdP's key and no defect make a valid token: it names no one. Defective ones name a real user.
          legit = sig === 'idp-rs256' && d === 'none';
          if (bySid && u.idpSid) claims.sid = legit ? `not-${u.idpSid}` : u.idpSid;
          else claims.sub = legit ? `not-${u.sub}` : u.sub;
          const edits: Record<string, () => void> = {
            none: () => undefined,
            'no-exp': () => delete claims.exp,
            'old-iat': () => (claims.iat = now - 365 * 86_400),
            'future-iat': () => (claims.iat = now + 365 * 86_400),
            expired: () => (claims.exp = now - 60),
            nonce: () => (claims.nonce = 'n'),
            'no-events': () => delete claims.events,
            'wrong-events': () => (claims.events = { 'http://example.com/other': {} }),
            'wrong-aud': () => (claims.aud = 'someone-else'),
            'wrong-iss': () => (claims.iss = 'https://evil.example'),
            'no-jti': () => delete claims.jti,
            'no-sid-sub': () => {
              delete claims.sid;
              delete claims.sub;
            },
            'no-iat': () => delete claims.iat,
          };
          edits[d]!();
          const header = { alg: 'RS256', kid: 'test-rs256', typ: 'logout+jwt' };
          if (sig === 'alg-none') token = `${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64(claims)}.`;
          else if (sig === 'hs256-client-secret')
            token = await new SignJWT(claims)
              .setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' })
              .sign(new TextEncoder().encode(CLIENT_SECRET));
          else {
            const key = sig === 'foreign-rs256' ? foreignKey : idpKey;
            token = await new SignJWT(claims)
              .setProtectedHeader({
                ...header,
                ...(sig === 'idp-key-wrong-kid' ? { kid: 'unknown-kid' } : {}),
              })
              .sign(key);
            if (sig === 'bad-signature')
              token = `${token.slice(0, -6)}${token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
          }
        }
        const form = new URLSearchParams([['logout_token', token]]);
        if (envelope === 'form-twice') form.append('logout_token', token);
        if (envelope === 'many-fields') for (let i = 0; i < 20; i++) form.append(`f${i}`, 'x');
        let body = envelope === 'json' ? JSON.stringify({ logout_token: token }) : form.toString();
        if (envelope === 'oversized') body = `${body}&pad=${'z'.repeat(70_000)}`;
        const type =
          envelope === 'json'
            ? 'application/json'
            : envelope === 'no-type'
              ? undefined
              : 'application/x-www-form-urlencoded';
        const lines = [
          ...(type ? [`Content-Type: ${type}`] : []),
          `Content-Length: ${Buffer.byteLength(body)}`,
        ];
        const what = JSON.stringify({ kind, d, sig, bySid, envelope, token: token.slice(0, 80) });
        const res = answered(
          await client.send(rawRequest('POST', '/auth/backchannel-logout', host, lines, body)),
          what,
        );
        checkAnswer(res, { secrets }, what);
        expect(res.header('cache-control'), what).toBe('no-store');
        if (legit && ['form', 'no-type'].includes(envelope) && res.status === 200) return;
        const outcome = `${res.status} ${errorCode(res) ?? ''}`;
        const shape = kind !== 'signed' ? 'garbage' : sig === 'idp-rs256' ? `IdP-signed, ${d}` : sig;
        outcomes.add('backchannel', `${shape}${envelope === 'form' ? '' : ` (${envelope})`}: ${outcome}`);
        if (outcome !== '400 invalid_request' && !(legit && res.status === 200))
          findings.add(`backchannel ${envelope}/${kind}: ${outcome}`);
        else
          expect(res.status, `${what} -> ${res.status} ${res.text}`).toBe(
            legit && envelope === 'form' ? 200 : 400,
          );
        expect(await stack.redis.client.exists(stack.parts.keys.session(u.who.sid)), what).toBe(1);
      },
    );
    await runBatch('backchannel', 1200, property);
  }, 120_000);

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
