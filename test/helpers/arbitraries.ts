/**
 * The adversarial corpus (test/integration/adversarial-*.test.ts): fast-check generators for hostile
 * inputs, the contract's rules as small oracles, and the checks every answer must pass.
 *
 *   fc.assert(fc.asyncProperty(hostileTarget, async (target) => { ... }), { numRuns: 2000 });
 *
 * A failure prints fast-check's seed and path; `FC_SEED=<seed> npx vitest run test/integration/adversarial`
 * replays the whole file with that seed (see `configureCorpus`).
 */
import fc from 'fast-check';
import { METHODS } from 'node:http';
import { RawConnection, type RawResponse } from './raw-http.js';

/** Seeds every property of the file from FC_SEED when set (a failure's replay). */
export function configureCorpus(): void {
  const seed = process.env.FC_SEED;
  fc.configureGlobal({
    ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}),
    // A property that has not finished its runs in a minute fails (the case count is part of the contract).
    interruptAfterTimeLimit: 60_000,
    markInterruptAsFailure: true,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------

/** Leaves the recording upstream treats specially (`hang` never answers): never generated as a last segment. */
const UPSTREAM_SPECIAL = new Set(['notes', 'respond', 'hang', 'sse', 'die-mid-body']);

const TRICKY_SEGMENTS = [
  '',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2e%2e',
  '.%2E',
  '%2e.',
  '..;',
  ';',
  'a;b',
  ';jsessionid=1',
  '%3b',
  '%3B',
  'a%2fb',
  '%2F',
  '%5c',
  '%5C',
  'a\\b',
  '%00',
  '\u0000',
  '%',
  '%4',
  '%zz',
  '%ff',
  '%C3%A9',
  '%41dmin',
  '%61%64%6d%69%6e',
  '%7e',
  '%2D',
  '%5F',
  '%20',
  '+',
  'é',
  '\u202e',
  '\ufeff',
  '\u{1f600}',
  '\t',
  ' ',
  '\r',
  '\n',
  '\u007f',
  '*',
  '?',
  '#',
  '@',
  ':',
  'admin',
  'ADMIN',
  '.well-known',
  '...',
  'a.',
  '.a',
];

const PATH_PREFIXES = [
  '/api',
  '/api/opt',
  '/api/pub',
  '/api/lim',
  '/api/cc',
  '/API',
  '/apix',
  '/auth',
  '/auth/login',
  '/auth/callback',
  '/auth/session',
  '/auth/logout',
  '/auth/backchannel-logout',
  '/auth/unknown',
  '',
  '/x',
  '/healthz',
  '/readyz',
  '/metrics',
  // Not origin-form: refused whatever follows.
  'http://evil.example/api',
  `http://127.0.0.1/api`,
  '*',
  'api',
];

export const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z0-9\-._~]{1,12}$/) },
  { weight: 4, arbitrary: fc.constantFrom(...TRICKY_SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 })
      .map((bytes) => bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  },
);

/** A raw request target (sent byte for byte, UTF-8): a prefix, hostile segments, maybe a query. */
export const hostileTarget: fc.Arbitrary<string> = fc
  .record({
    prefix: fc.constantFrom(...PATH_PREFIXES),
    segments: fc.array(segment, { maxLength: 5 }),
    trailingSlash: fc.boolean(),
    query: fc.option(fc.constantFrom('?a=1', '?', '?x=%00', '?returnTo=//evil', '?a=..%2f', '?;'), {
      nil: undefined,
    }),
    // Rare: a path of 1,000 to 20,000 bytes (over Node's 16 KiB head limit from about 16,000).
    overlong: fc.oneof(
      { weight: 15, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }) },
    ),
  })
  .map(({ prefix, segments, trailingSlash, query, overlong }) => {
    const tail = segments.map((s) => `/${s}`).join('');
    const long = overlong === undefined ? '' : `/${'a'.repeat(overlong)}`;
    const path = `${prefix}${tail}${long}${trailingSlash ? '/' : ''}` || '/';
    return `${path}${query ?? ''}`;
  })
  .filter((target) => !UPSTREAM_SPECIAL.has(lastSegment(target)));

function lastSegment(target: string): string {
  const path = target.split('?')[0] ?? '';
  const leaf = path.slice(path.lastIndexOf('/') + 1);
  return decodeUnreserved(leaf).toLowerCase();
}

/** Every method Node's parser knows, plus garbage tokens (some are not tokens at all). */
export const anyMethod: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...METHODS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'get',
      'GeT',
      'FOO',
      'G ET',
      'GET\t',
      'X'.repeat(300),
      'PRI',
      'BREW',
      '',
      '\u00e9',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z!#$%&'*+.^_`|~-]{1,10}$/) },
);

/** Random bytes of random length (sometimes large). */
export const bodyBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1_000, maxLength: 70_000 }) },
);

/** Split sizes for a chunked body. */
export const chunkSizes: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 5_000 }), {
  minLength: 1,
  maxLength: 8,
});

/** `body` as a chunked message body with chunks of `sizes` (the rest in one last chunk). */
export function chunkedBody(body: Uint8Array, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of [...sizes, body.length]) {
    if (at >= body.length) break;
    const chunk = body.subarray(at, at + size);
    at += chunk.length;
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), Buffer.from(chunk), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Header values an attacker controls (printable, sometimes long, sometimes with separators). */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
  fc.constantFrom(
    '',
    ' ',
    'null',
    '1',
    '0',
    'true',
    '1, 1',
    'chunked',
    'close',
    'keep-alive',
    'upgrade',
    'evil.example',
  ),
  fc.integer({ min: 10, max: 9_000 }).map((n) => 'v'.repeat(n)),
);

export const headerName: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
  fc.constantFrom(
    'Host',
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
    'Cookie',
    'Authorization',
    'X-CSRF',
    'Origin',
    'Sec-Fetch-Site',
    'Upgrade',
    'TE',
    'Trailer',
    'Keep-Alive',
    'Proxy-Connection',
    'Proxy-Authorization',
    'Forwarded',
    'X-Forwarded-For',
    'X-Forwarded-Host',
    'X-Forwarded-Proto',
    'X-Forwarded-Port',
    'X-Forwarded-Prefix',
    'X-Real-IP',
    'True-Client-IP',
    'X-Original-URL',
    'X-Rewrite-URL',
    'X-HTTP-Method-Override',
    'X-Method-Override',
    'Expect',
  ),
);

// ---------------------------------------------------------------------------------------------------------
// Oracles: the contract's rules, written from CONTRACT.md (not from src/)
// ---------------------------------------------------------------------------------------------------------

const UNRESERVED = /%(?:4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|3[0-9]|2d|2e|5f|7e)/gi;

/** RFC 3986 §6.2.2.2: percent-encoded unreserved characters decoded, everything else as it is. */
export function decodeUnreserved(path: string): string {
  return path.replace(UNRESERVED, (e) => String.fromCharCode(parseInt(e.slice(1), 16)));
}

/** The contract's "malformed path" rules that REQUIRE a 400 before any routing. */
export function pathMustBeRefused(target: string): boolean {
  if (!target.startsWith('/') || /%00|\0/.test(target)) return true;
  const path = target.split('?')[0] ?? '';
  if (/\/\//.test(path) || /;|%3b/i.test(path) || /%2f|%5c|%00|\\|\0/i.test(path)) return true;
  return decodeUnreserved(path)
    .split('/')
    .some((s) => s === '.' || s === '..');
}

/** Bytes Node's parser (or the gateway) must refuse in a request target: controls, space, DEL. */
export function targetHasRawControl(target: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are the point
  return /[\u0000-\u0020\u007f]/.test(target);
}

export interface RouteModel {
  prefix: string;
  targetPath: string;
  token: 'user' | 'optional' | 'none' | 'client';
  csrf: boolean;
  methods?: string[];
}

/** Longest whole-segment prefix match, as the contract says (case-sensitive). */
export function matchRoute(routes: RouteModel[], path: string): RouteModel | undefined {
  return [...routes]
    .sort((a, b) => b.prefix.length - a.prefix.length)
    .find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
}

// ---------------------------------------------------------------------------------------------------------
// The checks every answer must pass
// ---------------------------------------------------------------------------------------------------------

/** Every `error` code of the contract's table, plus the HTML pages' codes (`/auth/callback`, `/auth/login`). */
export const CONTRACT_CODES = new Set([
  'bad_request',
  'not_found',
  'rate_limited',
  'unauthenticated',
  'session_expired',
  'csrf_required',
  'forbidden',
  'step_up_required',
  'method_not_allowed',
  'invalid_request',
]);

/** Statuses a hostile request may get (no 5xx: the stack's IdP, store and upstream are all up). */
export const CLIENT_STATUSES = new Set([
  200, 204, 302, 303, 400, 401, 403, 404, 405, 408, 413, 414, 429, 431,
]);

const STACK_TRACE = /\n\s+at [^\n]*(?:\(|:\d+:\d+)|\bat (?:async )?[\w.<>]+ \((?:file|node):/;

export interface AnswerRules {
  /** Values that must never appear in a body the gateway wrote (tokens, cookie values, ids). */
  secrets: string[];
  /** The body is the upstream's (forwarded): secrets it echoes are not the gateway's doing. */
  fromUpstream?: boolean;
  /** The request's method: answers to HEAD have no body to check. */
  method?: string;
  /** Statuses allowed besides CLIENT_STATUSES (none by default). */
  alsoAllowed?: number[];
}

/** Throws (with the request's description) when an answer breaks a contract rule that holds everywhere. */
export function checkAnswer(res: RawResponse, rules: AnswerRules, what: string): void {
  const fail = (why: string): never => {
    throw new Error(`${why}\n  request: ${what}\n  answer: ${res.status} ${res.text.slice(0, 400)}`);
  };
  if (!CLIENT_STATUSES.has(res.status) && !(rules.alsoAllowed ?? []).includes(res.status))
    fail(`status ${res.status} is not a contract answer here`);
  if (STACK_TRACE.test(res.text)) fail('stack trace in the body');
  if (rules.fromUpstream || rules.method === 'HEAD') return;
  for (const secret of rules.secrets)
    if (secret.length >= 8 && res.text.includes(secret))
      fail(`a secret is echoed in the body: ${secret.slice(0, 6)}…`);
  const type = res.header('content-type') ?? '';
  if (res.status >= 400 && type.includes('application/json')) {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      fail('a JSON error that does not parse');
    }
    const obj = body as Record<string, unknown>;
    const keys = Object.keys(obj).sort().join(',');
    if (keys !== 'error,message' && !(obj.error === 'step_up_required' && keys === 'error,loginUrl,message'))
      fail(`JSON error body is not {"error","message"}: ${keys}`);
    if (typeof obj.error !== 'string' || !CONTRACT_CODES.has(obj.error))
      fail(`unknown error code ${String(obj.error)}`);
    if (typeof obj.message !== 'string') fail('message is not a string');
    if (res.header('cache-control') !== 'no-store') fail('JSON error without Cache-Control: no-store');
  }
}

/** How often each outcome was seen, per property: printed with the case count, so coverage is visible. */
export class Outcomes {
  private readonly seen = new Map<string, Map<string, number>>();

  add(property: string, outcome: string): void {
    const m = this.seen.get(property) ?? new Map<string, number>();
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
    this.seen.set(property, m);
  }

  summary(): string {
    return [...this.seen]
      .map(
        ([p, m]) =>
          `  ${p}: ${[...m]
            .sort((a, b) => b[1] - a[1])
            .map(([o, n]) => `${o} ×${n}`)
            .join(', ')}`,
      )
      .join('\n');
  }
}

/** The JSON error code of an answer, or undefined. */
export function errorCode(res: RawResponse): string | undefined {
  if (!(res.header('content-type') ?? '').includes('json')) return undefined;
  try {
    const body = JSON.parse(res.text) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client that reuses its keep-alive connection while the server keeps it open
// ---------------------------------------------------------------------------------------------------------

export class RawClient {
  private conn: RawConnection | undefined;
  /** What was sent earlier on the current keep-alive connection (for failure messages). */
  history: string[] = [];

  constructor(private readonly port: number) {}

  /**
   * Sends one complete request (`bytes`) and reads one answer. `fresh`: on a new connection that is
   * half-closed afterwards, and nothing more may come back (no second response from the same bytes).
   * Returns 'closed' when the server closed the connection without an answer.
   */
  async send(
    bytes: string | Buffer,
    options: { method?: string; fresh?: boolean } = {},
  ): Promise<RawResponse | 'closed'> {
    if (options.fresh) {
      const conn = await RawConnection.open(this.port);
      try {
        await conn.write(bytes).catch(() => undefined);
        const res = await conn.response({ method: options.method, timeoutMs: 10_000 }).catch((err: Error) => {
          if (conn.isClosed) return 'closed' as const;
          throw err;
        });
        const rest = await conn.endAndReadRest(10_000);
        if (rest !== '')
          throw new Error(`a second answer on one request's connection: ${rest.slice(0, 200)}`);
        return res;
      } finally {
        conn.destroy();
      }
    }
    if (!this.conn || this.conn.isClosed) {
      this.conn = await RawConnection.open(this.port);
      this.history = [];
    }
    const conn = this.conn;
    this.history.push(bytes.toString('latin1').slice(0, 300));
    await conn.write(bytes).catch(() => undefined);
    try {
      const res = await conn.response({ method: options.method, timeoutMs: 10_000 });
      if ((res.header('connection') ?? '').toLowerCase().includes('close')) this.drop();
      return res;
    } catch (err) {
      this.drop();
      if (conn.isClosed) return 'closed';
      throw err;
    }
  }

  drop(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }
}

/** A request's bytes: request line, `Host`, the header lines as given, then the body. */
export function rawRequest(
  method: string,
  target: string,
  host: string,
  lines: string[],
  body: string | Buffer = '',
): Buffer {
  const head = `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), typeof body === 'string' ? Buffer.from(body) : body]);
}
