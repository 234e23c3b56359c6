/**
 * Adversarial corpus, data plane (issue 9, deliverable 6), headers and upstream answers: fast-check
 * properties over framing conflicts, hop-by-hop and steering headers (never reaching the upstream), and
 * over the upstream's answers (hop-by-hop headers dropped on the way back, private by default).
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
  checkAnswer,
  chunkedBody,
  headerName,
  headerValue,
  matchRoute,
  rawRequest,
  type RawClient,
  type RouteModel,
} from '../helpers/arbitraries.js';
import { useAdversarialProxyStack, type CorpusUser } from '../helpers/adversarial-proxy-stack.js';
import { respondWith, type RecordingUpstream } from '../helpers/recording-upstream.js';

const world = useAdversarialProxyStack('headers');
const { outcomes, runBatch, count, upstreamSaw, checkForwardedHeaders } = world;
let up: RecordingUpstream;
let users: CorpusUser[];
let host: string;
let client: RawClient;
let routes: RouteModel[];
let secrets: string[];
beforeAll(() => {
  ({ up, users, host, client, routes, secrets } = world);
});

describe('adversarial corpus: data plane', () => {
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
});
