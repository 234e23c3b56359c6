/**
 * Adversarial corpus, data plane (issue 9, deliverable 6), paths, methods and bodies: fast-check
 * properties over hostile request targets (refused before routing, or routed to exactly the contract's
 * upstream path) and every method with random bodies and chunking.
 * Sent as raw bytes to one real stack (redis-server, oidc-provider, the gateway in-process, a recording
 * upstream behind routes of every token type), two signed-in users (test/helpers/adversarial-proxy-stack.ts).
 * Every answer must be a contract answer (no 5xx, no stack trace, JSON errors shaped as the contract's
 * table, no secret echoed); the upstream sees exactly the requests that should exist; no session or
 * pending login appears that no request legitimately created; the process keeps answering /healthz.
 * Replay a failure with FC_SEED=<seed printed by fast-check>.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  anyMethod,
  bodyBytes,
  checkAnswer,
  chunkedBody,
  chunkSizes,
  decodeUnreserved,
  errorCode,
  hostileTarget,
  matchRoute,
  pathMustBeRefused,
  rawRequest,
  targetHasRawControl,
  type RawClient,
  type RouteModel,
} from '../helpers/arbitraries.js';
import type { Stack } from '../helpers/gateway.js';
import { useAdversarialProxyStack, type CorpusUser } from '../helpers/adversarial-proxy-stack.js';
import { type RecordingUpstream } from '../helpers/recording-upstream.js';

const world = useAdversarialProxyStack('paths');
const { outcomes, runBatch, count, upstreamSaw, checkForwardedHeaders } = world;
let up: RecordingUpstream;
let stack: Stack;
let users: CorpusUser[];
let host: string;
let client: RawClient;
let routes: RouteModel[];
let secrets: string[];
beforeAll(() => {
  ({ up, stack, users, host, client, routes, secrets } = world);
});

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

  it('no request the corpus sent reached the upstream outside a route target', () => {
    for (const r of up.log) expect(r.url).toMatch(/^\/(v1|opt|pub|lim|cc)(\/|\?|$)/);
  });
});
