/**
 * Adversarial corpus, data plane (issue 9, deliverable 6): fast-check properties over hostile paths,
 * cookies, headers, methods and bodies, sent as raw bytes to one real stack (redis-server, oidc-provider,
 * the gateway in-process, a recording upstream behind routes of every token type), two signed-in users.
 *
 * Every answer must be a contract answer (no 5xx, no stack trace, JSON errors shaped as the contract's
 * table, no secret echoed); the upstream sees exactly the requests that should exist; no session or
 * pending login appears that no request legitimately created; the process keeps answering /healthz.
 * Replay a failure with FC_SEED=<seed printed by fast-check>.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anyMethod,
  bodyBytes,
  checkAnswer,
  chunkedBody,
  chunkSizes,
  configureCorpus,
  Outcomes,
  decodeUnreserved,
  errorCode,
  headerName,
  headerValue,
  hostileTarget,
  matchRoute,
  pathMustBeRefused,
  RawClient,
  rawRequest,
  targetHasRawControl,
  type RouteModel,
} from '../helpers/arbitraries.js';
import { SESSION_SECRET, signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import {
  respondWith,
  startRecordingUpstream,
  type LoggedRequest,
  type RecordingUpstream,
} from '../helpers/recording-upstream.js';

configureCorpus();

let up: RecordingUpstream;
let stack: Stack;
let users: Array<{ who: SignedIn; token: string; value: string }>;
let host: string;
let client: RawClient;
let routes: RouteModel[];
let secrets: string[];
const ran: Record<string, number> = {};
const outcomes = new Outcomes();

beforeAll(async () => {
  up = await startRecordingUpstream();
  routes = [
    { prefix: '/api', targetPath: '/v1', token: 'user', csrf: true },
    { prefix: '/api/opt', targetPath: '/opt', token: 'optional', csrf: true },
    { prefix: '/api/pub', targetPath: '/pub', token: 'none', csrf: false },
    { prefix: '/api/lim', targetPath: '/lim', token: 'user', csrf: true, methods: ['GET', 'POST'] },
    { prefix: '/api/cc', targetPath: '/cc', token: 'client', csrf: true },
  ];
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    loginRateLimit: 1_000_000,
    env: { LOG_LEVEL: 'warn' },
    routes: routes.map(({ targetPath, ...r }) => ({ ...r, target: `${up.url}${targetPath}` })),
  });
  host = new URL(stack.baseUrl).host;
  client = new RawClient(Number(new URL(stack.baseUrl).port));
  users = [];
  for (const login of ['alice', 'bob']) {
    const who = await signIn(stack, login);
    const record = await who.record();
    const value = /bff-session=([^;]+)/.exec(who.cookie)![1]!;
    users.push({ who, token: record.tokens.accessToken, value });
  }
  const rec = await users[0]!.who.record();
  secrets = [
    ...users.flatMap((u) => [u.token, u.value, decodeURIComponent(u.value), u.who.sid]),
    rec.tokens.refreshToken ?? '',
    rec.tokens.idToken ?? '',
    SESSION_SECRET,
    stack.env.OIDC_CLIENT_SECRET ?? '',
  ].filter((s) => s.length > 0);
}, 60_000);

afterAll(async () => {
  const total = Object.values(ran).reduce((a, b) => a + b, 0);
  console.log(`adversarial (proxy): ${total} cases ${JSON.stringify(ran)}\n${outcomes.summary()}`);
  client?.drop();
  await stack?.stop();
  await up?.stop();
});

const keyCount = async (pattern: string) => (await stack.redis.client.keys(pattern)).length;

/**
 * Healthz answers, no session appeared or vanished, and pending logins grew by at most `startedLogins`
 * (the 302s to the IdP; fewer when a browser's oldest attempts were evicted).
 */
async function checkBatch(
  before: { sessions: number; logins: number },
  startedLogins: number,
): Promise<void> {
  const health = await client.send(rawRequest('GET', '/healthz', host, []));
  expect(health === 'closed' ? 'closed' : health.status).toBe(200);
  expect(await keyCount('bff:*:session')).toBe(before.sessions);
  const logins = await keyCount('bff:*:login:*');
  if (startedLogins === 0) expect(logins).toBe(before.logins);
  else expect(logins - before.logins).toBeLessThanOrEqual(startedLogins);
  for (const u of users) expect(await stack.redis.client.exists(stack.parts.keys.session(u.who.sid))).toBe(1);
}

async function snapshot(): Promise<{ sessions: number; logins: number }> {
  return { sessions: await keyCount('bff:*:session'), logins: await keyCount('bff:*:login:*') };
}

/** Runs `property` as a batch: counts cases, checks health and store keys afterwards. */
async function runBatch(
  name: string,
  numRuns: number,
  property: fc.IAsyncProperty<[unknown]> | fc.IAsyncPropertyWithHooks<[unknown]>,
  createdLogins: () => number = () => 0,
): Promise<void> {
  const before = await snapshot();
  const startedAt = ran[name] ?? 0;
  await fc.assert(property, { numRuns });
  expect((ran[name] ?? 0) - startedAt).toBeGreaterThanOrEqual(numRuns);
  await checkBatch(before, createdLogins());
}

const count = (name: string) => {
  ran[name] = (ran[name] ?? 0) + 1;
};

/** What the upstream logged for this one browser request (at most one entry may exist). */
function upstreamSaw(from: number, what: string): LoggedRequest | undefined {
  const seen = up.log.slice(from);
  if (seen.length > 1) throw new Error(`${seen.length} upstream requests for one browser request: ${what}`);
  return seen[0];
}

/** The bearer a forwarded request must carry on `route` for the session user `u` (undefined: none). */
function expectedBearer(route: RouteModel, u: (typeof users)[number] | undefined): string | undefined {
  return route.token === 'none' ? undefined : u?.token;
}

function checkForwardedHeaders(
  entry: LoggedRequest,
  route: RouteModel,
  u: (typeof users)[number] | undefined,
): void {
  const h = entry.headers;
  if (route.token === 'client') {
    expect(entry.bearer).toBeDefined();
    expect(users.map((x) => x.token)).not.toContain(entry.bearer);
  } else {
    expect(entry.bearer).toBe(expectedBearer(route, u));
    if (expectedBearer(route, u) === undefined) expect(h.authorization).toBeUndefined();
  }
  expect(h['x-csrf']).toBeUndefined();
  expect(h.forwarded).toBeUndefined();
  expect(h['x-forwarded-host']).toBe(host);
  expect(h['x-forwarded-for']).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  expect(h['x-forwarded-proto']).toBe('http');
  expect(h.cookie ?? '').not.toMatch(/(^|;\s*)bff-(session|login)=/);
  for (const name of [
    'keep-alive',
    'proxy-connection',
    'proxy-authorization',
    'te',
    'trailer',
    'upgrade',
    'x-http-method-override',
    'x-http-method',
    'x-method-override',
    'x-original-url',
    'x-rewrite-url',
    'x-real-ip',
    'true-client-ip',
    'x-client-ip',
    'cf-connecting-ip',
    'fastly-client-ip',
  ])
    expect(h[name], name).toBeUndefined();
  for (const v of Object.values(h)) expect(String(v)).not.toMatch(/[\r\n\0]/);
}

describe('adversarial corpus: data plane', () => {
  it("paths: refused before routing, or routed to exactly the contract's upstream path", async () => {
    let logins = 0;
    const property = fc.asyncProperty(
      fc.record({
        target: hostileTarget,
        user: fc.constantFrom(0, 1, undefined),
        csrf: fc.boolean(),
      }),
      async ({ target: sent, user, csrf }) => {
        count('paths');
        // Node's parser reads `GET /a  HTTP/1.1` as `/a`: trailing spaces are not part of the target.
        const target = sent.replace(/ +$/, '');
        const u = user === undefined ? undefined : users[user];
        const lines = [...(u ? [`Cookie: ${u.who.cookie}`] : []), ...(csrf ? ['X-CSRF: 1'] : [])];
        const what = JSON.stringify({ target: sent, user, csrf });
        const from = up.log.length;
        // Bytes the request line cannot hold go on their own connection (and nothing may follow the answer).
        const fresh = /[^\x21-\x7e]/.test(sent);
        const res = await client.send(rawRequest('GET', sent, host, lines), { fresh });
        if (res === 'closed') throw new Error(`connection closed without an answer: ${what}`);
        const entry = upstreamSaw(from, what);
        outcomes.add('paths', `${res.status}${entry ? ' forwarded' : ` ${errorCode(res) ?? ''}`}`);
        checkAnswer(res, { secrets, fromUpstream: entry !== undefined }, what);
        const path = target.split('?')[0]!;
        if (targetHasRawControl(target) || pathMustBeRefused(target)) {
          expect(entry, what).toBeUndefined();
          expect([400, 414, 431], what).toContain(res.status);
          return;
        }
        if (res.status === 302 && (res.header('location') ?? '').startsWith(stack.idp.issuer)) logins += 1;
        if ((/[^\p{ASCII}]/u.test(target) || /%(?![0-9a-f]{2})/i.test(path)) && res.status === 400) {
          // Raw non-ASCII bytes (Node's parser refuses them) or a broken escape: a malformed path may be refused.
          expect(entry, what).toBeUndefined();
          return;
        }
        const decoded = decodeUnreserved(path);
        const route = matchRoute(routes, decoded);
        if (!route || res.status === 431 || res.status === 414) {
          // No route, or a head over Node's 16 KiB limit: nothing may reach the upstream.
          expect(entry, what).toBeUndefined();
          if (res.status === 431) expect(Buffer.byteLength(target), what).toBeGreaterThan(8_000);
          return;
        }
        const expectCode =
          route.csrf && !csrf
            ? 'csrf_required'
            : route.token === 'user' && !u
              ? 'unauthenticated'
              : undefined;
        if (expectCode !== undefined) {
          expect(
            errorCode(res),
            `${what} -> ${res.status} ${res.text} after ${JSON.stringify(client.history.slice(-3))}`,
          ).toBe(expectCode);
          expect(entry, what).toBeUndefined();
          return;
        }
        // Forwarded: exactly one upstream request, at the prefix replaced by the target's path.
        expect(res.status, what).toBe(200);
        expect(entry, what).toBeDefined();
        const query = target.includes('?') ? target.slice(target.indexOf('?')) : '';
        const upstreamPath = `${route.targetPath}${decoded.slice(route.prefix.length)}`;
        expect(entry!.url, what).toBe(`${upstreamPath}${query}`);
        checkForwardedHeaders(entry!, route, u);
      },
    );
    await runBatch('paths', 3000, property, () => logins);
  }, 120_000);

  it('cookies: tampered, truncated, foreign, doubled or oversized session cookies never pass as a session', async () => {
    const sign = (id: string, secret: string) =>
      encodeURIComponent(
        `s:${id}.${createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')}`,
      );
    const sessionValue = fc.oneof(
      fc.constantFrom(0, 1).map((i) => ({ kind: 'valid', user: i, value: users[i]!.value })),
      fc.record({ i: fc.nat(), c: fc.constantFrom('A', 'z', '0', '%', '.', '-') }).map(({ i, c }) => {
        const v = users[0]!.value;
        const at = i % v.length;
        return { kind: 'tampered', value: `${v.slice(0, at)}${v[at] === c ? 'B' : c}${v.slice(at + 1)}` };
      }),
      fc
        .nat()
        .map((i) => ({ kind: 'truncated', value: users[0]!.value.slice(0, i % users[0]!.value.length) })),
      fc
        .constantFrom(0, 1)
        .map((i) => ({ kind: 'other-secret', value: sign(users[i]!.who.sid, 'another-secret-0123456789') })),
      fc
        .stringMatching(/^[A-Za-z0-9_-]{1,40}$/)
        .map((id) => ({ kind: 'random-id-signed', value: sign(id, SESSION_SECRET) })),
      fc.constant({ kind: 'unsigned', value: users[0]!.who.sid }),
      fc.constant({ kind: 'decoded', value: decodeURIComponent(users[1]!.value).replace(/\.[^.]*$/, '.') }),
      fc.stringMatching(/^[\x21-\x3a\x3c-\x7e]{0,60}$/).map((v) => ({ kind: 'garbage', value: v })),
      fc.integer({ min: 1_000, max: 20_000 }).map((n) => ({ kind: 'oversized', value: 'x'.repeat(n) })),
    );
    const pair = fc.oneof(
      { weight: 4, arbitrary: sessionValue.map((s) => ({ ...s, name: 'bff-session' })) },
      {
        weight: 1,
        arbitrary: sessionValue.map((s) => ({ ...s, kind: `${s.kind}-renamed`, name: 'BFF-SESSION' })),
      },
      {
        weight: 1,
        arbitrary: fc
          .stringMatching(/^[A-Za-z0-9_-]{0,50}$/)
          .map((v) => ({ kind: 'login', name: 'bff-login', value: v })),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'other', name: 'theme', value: 'dark' }) },
    );
    const property = fc.asyncProperty(
      fc.record({
        pairs: fc.array(pair, { minLength: 1, maxLength: 3 }),
        sep: fc.constantFrom('; ', ';', ' ; '),
        target: fc.constantFrom('/api/c', '/api/opt/c', '/auth/session'),
        split: fc.boolean(),
      }),
      async ({ pairs, sep, target, split }) => {
        count('cookies');
        const cookie = pairs.map((p) => `${p.name}=${p.value}`).join(sep);
        const what = JSON.stringify({ kinds: pairs.map((p) => `${p.name}:${p.kind}`), target, split });
        const from = up.log.length;
        // One Cookie line, or one line per pair (Node joins them with '; ').
        const cookieLines = split ? pairs.map((p) => `Cookie: ${p.name}=${p.value}`) : [`Cookie: ${cookie}`];
        const res = await client.send(rawRequest('GET', target, host, [...cookieLines, 'X-CSRF: 1']));
        if (res === 'closed') throw new Error(`connection closed without an answer: ${what}`);
        const entry = upstreamSaw(from, what);
        outcomes.add(
          'cookies',
          `${res.status}${entry ? ` forwarded${entry.bearer ? ' with a token' : ''}` : ''}`,
        );
        checkAnswer(res, { secrets, fromUpstream: entry !== undefined }, what);
        if (res.status === 431 || res.status === 400) {
          // Too large for Node's header limit (16 KiB): refused before anything else.
          expect(Buffer.byteLength(cookie), what).toBeGreaterThan(8_000);
          expect(entry, what).toBeUndefined();
          return;
        }
        const sessionPairs = pairs.filter((p) => p.name === 'bff-session');
        const valid = sessionPairs.flatMap((p) =>
          'user' in p && typeof p.user === 'number' ? [users[p.user]!] : [],
        );
        // Anything but a whole, intact signed cookie is no session; exactly one intact cookie is that session.
        const mustBe = sessionPairs.length === 1 && valid.length === 1 ? valid[0] : undefined;
        const mayBe = valid;
        if (target === '/auth/session') {
          expect(entry).toBeUndefined();
          if (res.status === 200) {
            const sub = (JSON.parse(res.text) as { user: { sub: string } }).user.sub;
            expect(mayBe.length, what).toBeGreaterThan(0);
            expect(res.text).not.toContain(mayBe[0]!.token);
            void sub;
          } else {
            expect(mustBe, what).toBeUndefined();
            expect(errorCode(res), what).toBe('unauthenticated');
          }
          expect(res.values('set-cookie').join(' '), what).not.toMatch(/bff-session=[^;]/);
          return;
        }
        const route = matchRoute(routes, target)!;
        if (entry === undefined) {
          expect(route.token, what).toBe('user');
          expect(mustBe, what).toBeUndefined();
          expect(errorCode(res), what).toBe('unauthenticated');
          return;
        }
        expect(res.status).toBe(200);
        const carried = users.find((x) => x.token === entry.bearer);
        if (mustBe) expect(carried, what).toBe(mustBe);
        if (carried) expect(mayBe, what).toContain(carried);
        else expect(route.token === 'optional' && entry.bearer === undefined, what).toBe(true);
        checkForwardedHeaders(entry, route, carried);
      },
    );
    await runBatch('cookies', 1500, property);
  }, 120_000);

  it('headers: framing conflicts refused, hop-by-hop and steering headers never reach the upstream', async () => {
    const framing = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('none', 'cl', 'chunked') },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          'cl+te',
          'cl+cl-different',
          'cl+cl-same',
          'te-gzip',
          'te-gzip-chunked',
          'te-chunked-gzip',
          'te-identity',
          'te-Chunked',
          'te-twice',
        ),
      },
    );
    const extra = fc.array(
      fc.oneof(
        fc.tuple(headerName, headerValue).filter(([n]) => !/^(content-length|transfer-encoding)$/i.test(n)),
        fc.tuple(
          fc.constant('Connection'),
          fc.array(headerName, { minLength: 1, maxLength: 3 }).map((a) => a.join(', ')),
        ),
        fc.tuple(headerName, fc.constantFrom('a\nb', 'a\rb', 'a\r\n b', 'a\0b', 'a\r\nX-Injected: 1')),
      ),
      { maxLength: 5 },
    );
    const property = fc.asyncProperty(
      fc.record({ framing, extra, pub: fc.boolean(), body: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
      async ({ framing: f, extra: headers, pub, body }) => {
        count('headers');
        const u = users[0]!;
        const target = pub ? '/api/pub/h' : '/api/h';
        const route = matchRoute(routes, target)!;
        const lines = [`Cookie: ${u.who.cookie}`, 'X-CSRF: 1', ...headers.map(([n, v]) => `${n}: ${v}`)];
        const chunked = chunkedBody(body, [7]);
        const te = (v: string) => [`Transfer-Encoding: ${v}`];
        const framingLines: Record<string, string[]> = {
          none: [],
          cl: [`Content-Length: ${body.length}`],
          chunked: te('chunked'),
          'cl+te': [`Content-Length: ${body.length}`, ...te('chunked')],
          'cl+cl-different': [`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`],
          'cl+cl-same': [`Content-Length: ${body.length}`, `Content-Length: ${body.length}`],
          'te-gzip': te('gzip'),
          'te-gzip-chunked': te('gzip, chunked'),
          'te-chunked-gzip': te('chunked, gzip'),
          'te-identity': te('identity'),
          'te-Chunked': te('Chunked'),
          'te-twice': [...te('chunked'), ...te('chunked')],
        };
        const isChunked = f === 'chunked' || f.startsWith('te') || f === 'cl+te';
        const payload = f === 'none' ? Buffer.alloc(0) : isChunked ? chunked : Buffer.from(body);
        const what = JSON.stringify({ f, headers, pub });
        const from = up.log.length;
        const res = await client.send(
          rawRequest('POST', target, host, [...lines, ...framingLines[f]!], payload),
          {
            fresh: true,
          },
        );
        const entry = upstreamSaw(from, what);
        outcomes.add('headers', res === 'closed' ? 'closed' : `${res.status}${entry ? ' forwarded' : ''}`);
        if (res === 'closed') {
          expect(entry, what).toBeUndefined();
          return;
        }
        checkAnswer(res, { secrets, fromUpstream: entry !== undefined, alsoAllowed: [417] }, what);
        if (res.status === 417) {
          // Node answers an Expect other than 100-continue itself, before the gateway sees the request.
          expect(
            headers.some(([n]) => /^expect$/i.test(n)),
            what,
          ).toBe(true);
          expect(entry, what).toBeUndefined();
          return;
        }
        const mustRefuse = [
          'cl+te',
          'cl+cl-different',
          'te-gzip',
          'te-gzip-chunked',
          'te-chunked-gzip',
          'te-identity',
        ];
        if (mustRefuse.includes(f)) {
          expect([400, 431], what).toContain(res.status);
          expect(entry, what).toBeUndefined();
          return;
        }
        if (entry === undefined) {
          expect(res.status, what).toBeGreaterThanOrEqual(400);
          return;
        }
        expect(res.status, what).toBe(200);
        expect(entry.method).toBe('POST');
        expect(entry.url).toBe(pub ? '/pub/h' : '/v1/h');
        expect(Buffer.compare(entry.body, f === 'none' ? Buffer.alloc(0) : Buffer.from(body)), what).toBe(0);
        const csrfLines = lines.filter((l) => /^x-csrf:/i.test(l));
        if (route.csrf)
          expect(
            csrfLines.map((l) => l.slice(l.indexOf(':') + 1).trim()),
            what,
          ).toEqual(['1']);
        checkForwardedHeaders(entry, route, u);
        const named = headers
          .filter(([n]) => /^connection$/i.test(n))
          .flatMap(([, v]) => v.split(',').map((s) => s.trim().toLowerCase()))
          // The gateway sets these itself (framing, Host, token, X-Forwarded-*) after dropping the client's.
          .filter(
            (n) =>
              !/^(host|connection|content-length|transfer-encoding|cookie|authorization|x-forwarded-(for|host|proto))$/.test(
                n,
              ),
          );
        for (const n of named)
          if (n !== '') expect(entry.headers[n], `${n} named in Connection: ${what}`).toBeUndefined();
      },
    );
    await runBatch('headers', 1500, property);
  }, 120_000);

  it('methods and bodies: every method, random bytes, random chunking: one upstream request, body intact, or a refusal', async () => {
    const property = fc.asyncProperty(
      fc.record({
        method: anyMethod,
        target: fc.constantFrom('/api/m', '/api/pub/m', '/api/lim/m'),
        body: bodyBytes,
        framing: fc.constantFrom('none', 'cl', 'chunked'),
        sizes: chunkSizes,
      }),
      async ({ method, target, body, framing, sizes }) => {
        count('methods');
        const u = users[1]!;
        const lines = [`Cookie: ${u.who.cookie}`, 'X-CSRF: 1'];
        const sent = framing === 'none' ? Buffer.alloc(0) : Buffer.from(body);
        if (framing === 'cl') lines.push(`Content-Length: ${body.length}`);
        if (framing === 'chunked') lines.push('Transfer-Encoding: chunked');
        const payload = framing === 'chunked' ? chunkedBody(body, sizes) : sent;
        const what = JSON.stringify({ method, target, framing, length: body.length });
        const from = up.log.length;
        const res = await client.send(rawRequest(method, target, host, lines, payload), {
          method,
          fresh: true,
        });
        const entry = upstreamSaw(from, what);
        outcomes.add(
          'methods',
          res === 'closed' ? `closed (${method})` : `${res.status}${entry ? ' forwarded' : ''}`,
        );
        // Every method gets an HTTP answer (CONNECT included: the server's 'connect' listener refuses it).
        if (res === 'closed') throw new Error(`no answer: ${what}`);
        checkAnswer(res, { secrets, fromUpstream: entry !== undefined }, what);
        const route = matchRoute(routes, target)!;
        if (entry === undefined) {
          expect(res.status, what).toBeGreaterThanOrEqual(400);
          if (
            route.methods &&
            /^[A-Z]+$/.test(method) &&
            !['GET', 'HEAD', 'POST'].includes(method) &&
            res.status !== 400
          )
            expect(res.status, what).toBe(405);
          return;
        }
        expect(entry.method, what).toBe(method);
        expect(route.methods === undefined || ['GET', 'HEAD', 'POST'].includes(method), what).toBe(true);
        expect(entry.url).toBe(`${route.targetPath}/m`);
        expect(entry.complete, what).toBe(true);
        expect(Buffer.compare(entry.body, sent), what).toBe(0);
        checkForwardedHeaders(entry, route, u);
      },
    );
    await runBatch('methods', 1500, property);
  }, 120_000);

  it('upstream answers: hop-by-hop headers dropped on the way back, private by default, status passed on', async () => {
    const responseHeader = fc.oneof(
      fc.tuple(
        // Not `Trailer`: node:http refuses to send it without chunked framing (the upstream would throw).
        fc.constantFrom('Keep-Alive', 'Proxy-Connection', 'TE', 'Upgrade', 'Proxy-Authenticate'),
        headerValue.filter((v) => v.length < 200),
      ),
      fc.tuple(
        fc.constant('Connection'),
        fc.constantFrom('X-A', 'X-A, X-B', 'close', 'keep-alive', 'X-B, foo'),
      ),
      fc.tuple(fc.constantFrom('X-A', 'X-B', 'X-Keep'), fc.stringMatching(/^[\x21-\x7e]{1,20}$/)),
      fc.tuple(fc.constant('Cache-Control'), fc.constantFrom('no-cache', 'public, max-age=60', 'private')),
      fc.tuple(fc.constant('WWW-Authenticate'), fc.constantFrom('Bearer realm="api"', 'Basic realm="x"')),
    );
    const property = fc.asyncProperty(
      fc.record({
        headers: fc.array(responseHeader, { maxLength: 5 }),
        status: fc.oneof(
          fc.constantFrom(200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 502, 503),
          fc.integer({ min: 200, max: 599 }),
        ),
        route: fc.constantFrom('/api', '/api/opt', '/api/pub'),
        method: fc.constantFrom('GET', 'HEAD'),
      }),
      async ({ headers, status, route: prefix, method }) => {
        count('answers');
        const u = users[0]!;
        const path = `${prefix}/${respondWith(headers, { status: String(status) })}`;
        const what = JSON.stringify({ headers, status, prefix, method });
        const from = up.log.length;
        const res = await client.send(
          rawRequest(method, path, host, [`Cookie: ${u.who.cookie}`, 'X-CSRF: 1']),
          { method },
        );
        if (res === 'closed') throw new Error(`connection closed without an answer: ${what}`);
        const entry = upstreamSaw(from, what);
        outcomes.add('answers', `${res.status === status ? 'passed on' : `${status} -> ${res.status}`}`);
        expect(entry, what).toBeDefined();
        // The upstream's own status (5xx included) is its answer, passed on: not a gateway failure.
        checkAnswer(res, { secrets, fromUpstream: true, alsoAllowed: [status] }, what);
        expect(res.status, what).toBe(status);
        const named = headers
          .filter(([n]) => n === 'Connection')
          .flatMap(([, v]) => v.split(',').map((x) => x.trim().toLowerCase()))
          .filter((n) => n.startsWith('x-'));
        for (const n of [...named, 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate'])
          expect(res.header(n), `${n} reached the browser: ${what}`).toBeUndefined();
        // Keep-Alive may only be the gateway's own server's (Node: `timeout=5`), never the upstream's.
        expect(res.header('keep-alive') ?? 'timeout=5', what).toBe('timeout=5');
        expect(res.header('connection') ?? 'keep-alive', what).toMatch(/^(keep-alive|close)$/i);
        if (res.header('x-keep') === undefined)
          expect(
            headers.some(([n]) => n === 'X-Keep'),
            `X-Keep lost: ${what}`,
          ).toBe(false);
        const upstreamCache = headers.filter(([n]) => n === 'Cache-Control').map(([, v]) => v);
        if (prefix !== '/api/pub' && upstreamCache.length === 0)
          expect(res.header('cache-control'), what).toBe('private, no-store');
        if (upstreamCache.length > 0)
          expect(res.header('cache-control'), what).toBe(upstreamCache.join(', '));
      },
    );
    await runBatch('answers', 400, property);
  }, 120_000);

  it('no request the corpus sent reached the upstream outside a route target', () => {
    for (const r of up.log) expect(r.url).toMatch(/^\/(v1|opt|pub|lim|cc)(\/|\?|$)/);
  });
});
