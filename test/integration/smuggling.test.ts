/**
 * Request smuggling, from the attacker's side: raw bytes on a socket to the gateway, a real keep-alive
 * upstream that logs every request it parses per TCP connection, two signed-in users (alice attacks,
 * bob is the victim) and an anonymous attacker on a `token: none` route.
 *
 * The contract: one browser request is exactly one upstream request; framing is the gateway's; a body
 * on any method is forwarded with correct framing or refused with 400; nothing of one browser request
 * becomes a second upstream request or the start of another user's.
 *
 * How "no extra upstream request" is decided without sleeping: after each attack, bob sends an
 * ordinary request on a new connection and we await his answer. A smuggled request's bytes reach the
 * upstream before the attacker's answer comes back (they travel behind its head on the same
 * connection), so by the time bob is answered the upstream log holds everything the attack caused.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { chunked, RawConnection, type RawResponse } from '../helpers/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';

let up: RecordingUpstream;
let stack: Stack;
let alice: SignedIn;
let bob: SignedIn;
let port: number;
let host: string;

beforeAll(async () => {
  up = await startRecordingUpstream();
  stack = await startStack({
    routes: [
      { prefix: '/api', target: `${up.url}/v1`, token: 'user' },
      { prefix: '/public', target: `${up.url}/pub`, token: 'none', csrf: false },
    ],
  });
  port = Number(new URL(stack.baseUrl).port);
  host = new URL(stack.baseUrl).host;
  alice = await signIn(stack, 'alice');
  bob = await signIn(stack, 'bob');
});
afterAll(async () => {
  await stack?.stop();
  await up?.stop();
});
beforeEach(() => up.reset());

const token = async (who: SignedIn) => (await who.record()).tokens.accessToken;
const signedIn = (who: SignedIn) => [`Cookie: ${who.cookie}`, 'X-CSRF: 1'];

/** A complete request to a path outside every route's target: if the upstream logs it, it was smuggled. */
const SMUGGLED = 'GET /internal/smuggled HTTP/1.1\r\nHost: upstream\r\n\r\n';

function request(method: string, target: string, lines: string[], body = '', version = '1.1'): string {
  return `${method} ${target} HTTP/${version}\r\nHost: ${host}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n${body}`;
}

/**
 * A 400 refusal. Node's own parser refuses some framing before the gateway sees the request and then
 * answers `400 Bad Request` itself with no body and closes; the gateway may install a clientError
 * handler that answers the contract's JSON instead. Either passes where `nodeMayAnswer`; where Node
 * lets the request through, only the gateway can refuse it and its JSON is required.
 */
function expectBadRequest(res: RawResponse, method: string, nodeMayAnswer: boolean): void {
  expect(res.status).toBe(400);
  if (method === 'HEAD') return;
  if (nodeMayAnswer && !res.header('content-type')?.includes('json')) {
    expect(res.text).toBe('');
    return;
  }
  expect(JSON.parse(res.text)).toEqual({ error: 'bad_request', message: expect.any(String) });
  expect(res.header('cache-control')).toBe('no-store');
}

/** Bob's ordinary request on a new connection: answered by the upstream, at his path, with his token. */
async function bobIsServed(tag: string): Promise<void> {
  const conn = await RawConnection.open(port);
  await conn.write(request('GET', `/api/bob-${tag}`, signedIn(bob)));
  const res = await conn.response();
  conn.destroy();
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text)).toMatchObject({ url: `/v1/bob-${tag}`, bearer: await token(bob) });
}

interface Seen {
  method: string;
  url: string;
  bearer: string | undefined;
}

/** Exactly these upstream requests, in order; every one inside a route's target. */
function expectUpstreamSaw(expected: Seen[]): void {
  expect(up.log.map(({ method, url, bearer }) => ({ method, url, bearer }))).toEqual(expected);
  for (const r of up.log) expect(r.url).toMatch(/^\/(v1|pub)\//);
}

interface Vector {
  name: string;
  method: string;
  lines: string[];
  body: string;
  /** What the upstream must receive as the body when the gateway forwards instead of refusing. */
  decoded?: string;
  /** The contract requires a 400 (otherwise forwarding with correct framing also passes). */
  refuse?: boolean;
  /** Node's own parser refuses this before the gateway sees it (measured on Node 20). */
  node400?: boolean;
  /**
   * The head is valid and only the chunked body is malformed: the request may already be on its way
   * upstream (bodies stream) when the parser fails. Then the browser gets a 400 or a cut connection,
   * and the upstream sees that one request at most, never completed.
   */
  badBody?: boolean;
  /** No session: the anonymous attacker on the `token: none` route (csrf: false). */
  anonymous?: boolean;
  target?: string;
  version?: string;
}

/** Runs one attack (as alice, or anonymous), then bob's request; checks the answers and the upstream log. */
async function runVector(v: Vector): Promise<void> {
  const attackerToken = v.anonymous ? undefined : await token(alice);
  const conn = await RawConnection.open(port);
  const lines = [...(v.anonymous ? [] : signedIn(alice)), ...v.lines];
  const prefix = v.anonymous ? '/public' : '/api';
  await conn.write(request(v.method, v.target ?? `${prefix}/attack`, lines, v.body, v.version));
  const answer = await conn.response({ method: v.method }).catch((err: Error) => err);
  // Nothing in the attacker's bytes may become a second request on the client side either.
  expect(await conn.endAndReadRest()).toBe('');
  await bobIsServed('after');
  const bobSeen: Seen = { method: 'GET', url: '/v1/bob-after', bearer: await token(bob) };
  const attackSeen: Seen = {
    method: v.method,
    url: v.anonymous ? '/pub/attack' : '/v1/attack',
    bearer: attackerToken,
  };
  if (v.badBody && (answer instanceof Error || answer.status === 400)) {
    if (!(answer instanceof Error)) expectBadRequest(answer, v.method, true);
    if (up.log.length === 2) {
      expectUpstreamSaw([attackSeen, bobSeen]);
      await up.log[0]!.closed;
      expect(up.log[0]!.complete).toBe(false);
    } else expectUpstreamSaw([bobSeen]);
    return;
  }
  if (answer instanceof Error) throw answer;
  const res = answer;
  if (res.status === 400 || v.refuse) {
    expectBadRequest(res, v.method, v.node400 === true);
    expectUpstreamSaw([bobSeen]);
    return;
  }
  expect(res.status).toBe(200);
  expectUpstreamSaw([attackSeen, bobSeen]);
  const forwarded = up.log[0]!;
  expect(forwarded.body.toString('latin1')).toBe(v.decoded ?? v.body);
  expect(forwarded.headers.host).toBe(new URL(up.url).host);
}

const S = SMUGGLED;
const CL = `Content-Length: ${S.length}`;
const TE = 'Transfer-Encoding: chunked';
const HEX = S.length.toString(16);
/** A vector: name, method, header lines, raw body, then what else applies. */
const vec = (name: string, method: string, lines: string[], body: string, more: Partial<Vector> = {}) => ({
  name,
  method,
  lines,
  body,
  ...more,
});
/** The contract requires a 400, and Node's own parser already answers it. */
const NODE400 = { refuse: true, node400: true };
/** The head is fine, the chunked body is not (see `badBody`). */
const BAD_BODY = { ...NODE400, badBody: true };
/** A valid chunked body: forwarded with the gateway's framing, or refused. */
const DECODED = { decoded: S };
const METHODS = ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST'];

describe('Connection naming the framing headers (they must never be removed for it)', () => {
  it.each(METHODS)('%s with Connection: content-length and a body', (method) =>
    runVector(vec('', method, ['Connection: content-length', CL], S)),
  );
  it.each(METHODS)('%s with Connection: transfer-encoding and a chunked body', (method) =>
    runVector(vec('', method, ['Connection: keep-alive, Transfer-Encoding', TE], chunked(S), DECODED)),
  );
  it.each(METHODS)('%s with Connection: host and a body', (method) =>
    runVector(vec('', method, ['Connection: Host', CL], S)),
  );
});

describe('anonymous, on a token: none route', () => {
  it.each(METHODS)('%s with Connection: content-length and a body', (method) =>
    runVector(vec('', method, ['Connection: content-length', CL], S, { anonymous: true })),
  );
  it.each(['DELETE', 'OPTIONS'])('chunked %s', (method) =>
    runVector(vec('', method, [TE], chunked(S), { ...DECODED, anonymous: true })),
  );
  it('Transfer-Encoding: gzip, chunked', () =>
    runVector(
      vec('', 'POST', ['Transfer-Encoding: gzip, chunked'], chunked(S), { refuse: true, anonymous: true }),
    ));
});

describe('chunked bodies on methods that usually have none', () => {
  it.each(['DELETE', 'OPTIONS', 'GET', 'HEAD'])('chunked %s', (method) =>
    runVector(vec('', method, [TE], chunked(S), DECODED)),
  );
});

const FRAMING: Vector[] = [
  vec('CL then TE', 'POST', ['Content-Length: 4', TE], chunked(S), NODE400),
  vec('TE then CL', 'POST', [TE, 'Content-Length: 4'], chunked(S), NODE400),
  vec('two different Content-Lengths', 'POST', ['Content-Length: 4', CL], S, NODE400),
  // The contract allows forwarding these two with one Content-Length; Node refuses them.
  vec('two identical Content-Lengths', 'POST', [CL, CL], S, { node400: true }),
  vec('Content-Length: n, n', 'POST', [`${CL}, ${S.length}`], S, { node400: true }),
  // Node accepts a final `chunked` after other codings: only the gateway can refuse these.
  vec('Transfer-Encoding: gzip, chunked', 'POST', ['Transfer-Encoding: gzip, chunked'], chunked(S), {
    refuse: true,
  }),
  vec('GET with Transfer-Encoding: gzip, chunked', 'GET', ['Transfer-Encoding: gzip, chunked'], chunked(S), {
    refuse: true,
  }),
  vec(
    'Transfer-Encoding: chunked, identity',
    'POST',
    ['Transfer-Encoding: chunked, identity'],
    chunked(S),
    NODE400,
  ),
  vec('Transfer-Encoding: xchunked', 'POST', ['Transfer-Encoding: xchunked'], chunked(S), NODE400),
  vec(
    'Transfer-Encoding: identity with Content-Length',
    'POST',
    ['Transfer-Encoding: identity', CL],
    S,
    NODE400,
  ),
  vec('two Transfer-Encoding: chunked lines', 'POST', [TE, TE], chunked(S), { node400: true }),
  vec(
    'space before the colon',
    'POST',
    ['Transfer-Encoding : chunked', 'Content-Length: 4'],
    chunked(S),
    NODE400,
  ),
  vec(
    'obs-fold into Transfer-Encoding',
    'POST',
    ['Transfer-Encoding: identity', ' chunked'],
    chunked(S),
    NODE400,
  ),
  vec('obs-fold hiding a header', 'POST', ['X-Note: a', ` ${TE}`, 'Content-Length: 4'], chunked(S), NODE400),
  // Valid spellings of chunked: forwarded with the gateway's framing (or refused).
  vec('Transfer-Encoding:<TAB>chunked', 'POST', ['Transfer-Encoding:\tchunked'], chunked(S), DECODED),
  vec('Transfer-Encoding: Chunked', 'POST', ['Transfer-Encoding: Chunked'], chunked(S), DECODED),
  vec('a valid chunk extension', 'POST', [TE], `${HEX};a=b\r\n${S}\r\n0\r\n\r\n`, DECODED),
  vec('a chunk extension with a control byte', 'POST', [TE], `${HEX};a\x01b\r\n${S}\r\n0\r\n\r\n`, BAD_BODY),
  vec('chunk size 0x…', 'POST', [TE], `0x${HEX}\r\n${S}\r\n0\r\n\r\n`, BAD_BODY),
  vec('chunk size with trailing space', 'POST', [TE], `${HEX} \r\n${S}\r\n0\r\n\r\n`, BAD_BODY),
  vec('bare LF in the chunked body', 'POST', [TE], `${HEX}\n${S}\n0\n\n`, BAD_BODY),
  vec('bare LF ending a header line', 'POST', [`X-Note: a\n${CL}`], S, NODE400),
  vec('HTTP/1.0 with Transfer-Encoding: chunked', 'POST', [TE], chunked(S), { ...DECODED, version: '1.0' }),
  vec('a second Host header', 'POST', ['Host: evil.example', CL], S),
  // Absolute-form: refused (the path is not `/…`, and holds `//`) or routed by its path alone.
  vec('absolute-form request-target', 'GET', [], '', { target: 'http://evil.example/api/attack' }),
];

describe('ambiguous framing', () => {
  it.each(FRAMING)('$name', (v) => runVector(v));
});

describe("the capture: a smuggled request whose body the next user's request would complete", () => {
  // The smuggled POST's Content-Length is large enough to swallow a whole request head. The notes
  // store keeps a body while it streams in, so a capture shows even though the victim's request then
  // waits for the rest: the test needs no knowledge of the victim's exact request length.
  const notesPost = (target: string) =>
    `POST ${target}/notes HTTP/1.1\r\nHost: upstream\r\nContent-Type: text/plain\r\nContent-Length: 400\r\n\r\nCAPTURED:`;

  it.each([
    { attacker: 'alice (signed in)', prefix: '/api', target: '/v1', anonymous: false },
    { attacker: 'anonymous, on a token: none route', prefix: '/public', target: '/pub', anonymous: true },
    {
      attacker: 'anonymous, smuggling into another route',
      prefix: '/public',
      target: '/v1',
      anonymous: true,
    },
  ])("$attacker never reads bob's token", async ({ prefix, target, anonymous }) => {
    const aliceToken = await token(alice);
    const bobToken = await token(bob);
    const who = anonymous ? [] : signedIn(alice);
    const body = notesPost(target);

    const attack = await RawConnection.open(port);
    await attack.write(
      request(
        'GET',
        `${prefix}/hello`,
        [...who, 'Connection: content-length', `Content-Length: ${body.length}`],
        body,
      ),
    );
    const attacked = await attack.response();
    expect(await attack.endAndReadRest()).toBe('');

    // Bob's ordinary request. A vulnerable gateway feeds it into the smuggled body and bob waits for
    // an answer that never comes: race his answer against the capture, so that case fails fast.
    const victim = await RawConnection.open(port);
    await victim.write(request('GET', '/api/bob-capture', signedIn(bob)));
    const bobAnswer = victim.response({ timeoutMs: 10_000 });
    bobAnswer.catch(() => undefined); // awaited below; a vulnerable run fails before that
    onTestFinished(() => victim.destroy());
    const first = await Promise.race([
      bobAnswer.then(() => 'answered'),
      up.waitForNote(bobToken).then(() => 'captured'),
    ]);

    const readBack = await RawConnection.open(port);
    await readBack.write(request('GET', `${prefix}/notes`, who));
    const notes = await readBack.response();
    readBack.destroy();
    expect(notes.status).toBe(200);
    expect(notes.text).not.toContain(bobToken);
    expect(notes.text).not.toContain('CAPTURED');
    expect(up.notes()).toEqual([]);
    expect(first).toBe('answered');

    const bobRes = await bobAnswer;
    victim.destroy();
    expect(bobRes.status).toBe(200);
    expect(JSON.parse(bobRes.text)).toMatchObject({ url: '/v1/bob-capture', bearer: bobToken });

    const attackerToken = anonymous ? undefined : aliceToken;
    const bobSeen = { method: 'GET', url: '/v1/bob-capture', bearer: bobToken };
    const readSeen = {
      method: 'GET',
      url: `${prefix === '/api' ? '/v1' : '/pub'}/notes`,
      bearer: attackerToken,
    };
    if (attacked.status === 400) {
      expectBadRequest(attacked, 'GET', false);
      expectUpstreamSaw([bobSeen, readSeen]);
    } else {
      expect(attacked.status).toBe(200);
      const helloUrl = `${prefix === '/api' ? '/v1' : '/pub'}/hello`;
      expectUpstreamSaw([{ method: 'GET', url: helloUrl, bearer: attackerToken }, bobSeen, readSeen]);
      expect(up.log[0]!.body.toString()).toBe(body);
    }
  });
});

describe('well-formed requests', () => {
  it('pipelined requests of two users on one connection: each forwarded once, each with its own token', async () => {
    const conn = await RawConnection.open(port);
    await conn.write(
      request('GET', '/api/pipe-1', signedIn(alice)) +
        request('POST', '/api/pipe-2', [...signedIn(bob), 'Content-Length: 5'], 'hello') +
        request('HEAD', '/api/pipe-3', signedIn(alice)) +
        request('DELETE', '/api/pipe-4', [...signedIn(bob), 'Transfer-Encoding: chunked'], chunked('bye')),
    );
    const answers = [
      await conn.response(),
      await conn.response(),
      await conn.response({ method: 'HEAD' }),
      await conn.response(),
    ];
    expect(await conn.endAndReadRest()).toBe('');
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const [a, b] = [await token(alice), await token(bob)];
    expect(JSON.parse(answers[0]!.text)).toMatchObject({ url: '/v1/pipe-1', bearer: a });
    expect(JSON.parse(answers[1]!.text)).toMatchObject({ url: '/v1/pipe-2', bearer: b, body: 'hello' });
    expect(JSON.parse(answers[3]!.text)).toMatchObject({ url: '/v1/pipe-4', bearer: b, body: 'bye' });
    expectUpstreamSaw([
      { method: 'GET', url: '/v1/pipe-1', bearer: a },
      { method: 'POST', url: '/v1/pipe-2', bearer: b },
      { method: 'HEAD', url: '/v1/pipe-3', bearer: a },
      { method: 'DELETE', url: '/v1/pipe-4', bearer: b },
    ]);
  });

  it('Expect: 100-continue: the body follows the 100 and is forwarded once, intact', async () => {
    const body = 'x'.repeat(70_000) + SMUGGLED;
    const conn = await RawConnection.open(port);
    await conn.write(
      request('POST', '/api/upload', [
        ...signedIn(alice),
        'Expect: 100-continue',
        `Content-Length: ${body.length}`,
      ]),
    );
    const interim = await conn.next();
    expect(interim.status).toBe(100);
    await conn.write(body);
    const res = await conn.response();
    expect(await conn.endAndReadRest()).toBe('');
    expect(res.status).toBe(200);
    expectUpstreamSaw([{ method: 'POST', url: '/v1/upload', bearer: await token(alice) }]);
    expect(up.log[0]!.body.toString()).toBe(body);
  });
});
