/**
 * Request smuggling, from the attacker's side, framing vectors: raw bytes on a socket to the gateway
 * (Connection naming the framing headers, chunked bodies on methods that usually have none, ambiguous
 * Content-Length/Transfer-Encoding framing), as alice on a user route or anonymous on a `token: none`
 * route; bob is the victim (test/helpers/smuggling-stack.ts).
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
import { describe, it } from 'vitest';
import { chunked } from '../helpers/raw-http.js';
import { SMUGGLED, useSmugglingStack, type Vector } from '../helpers/smuggling-stack.js';

const { runVector } = useSmugglingStack();

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
