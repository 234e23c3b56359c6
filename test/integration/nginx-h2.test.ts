/**
 * The deployment shape issue 8 reproduced the smuggling through: browsers speak HTTP/2 to nginx, nginx
 * proxies to the gateway over keep-alive HTTP/1.1 with `proxy_request_buffering off` (the contract
 * promises unbuffered uploads), and the gateway (TRUST_PROXY=loopback) forwards to a keep-alive upstream.
 * HTTP/2 has no `Connection` header and frames bodies itself, so the attack here is a body (DATA frames)
 * on GET/HEAD/DELETE/OPTIONS, which nginx passes on chunked (no content-length) or with its length.
 *
 * Same contract and same "no sleep" rule as smuggling-framing.test.ts: after each attack bob sends an ordinary
 * request through nginx and we await his answer; by then the upstream log holds everything the attack
 * caused. The clients are Node's own `http2.connect` (h2c, prior knowledge), one connection per browser.
 */
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { h2cListen, startNginx, type Nginx } from '../helpers/nginx.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';

let up: RecordingUpstream;
let stack: Stack;
let nginx: Nginx;
let alice: SignedIn;
let bob: SignedIn;

beforeAll(async () => {
  up = await startRecordingUpstream();
  stack = await startStack({
    routes: [{ prefix: '/api', target: `${up.url}/v1`, token: 'user' }],
    env: { TRUST_PROXY: 'loopback' },
  });
  const gatewayPort = new URL(stack.baseUrl).port;
  nginx = await startNginx(
    (port) => `
  upstream gateway { server 127.0.0.1:${gatewayPort}; keepalive 16; }
  server {
    ${h2cListen(port)}
    client_max_body_size 0;
    location / {
      proxy_pass http://gateway;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }`,
  );
  alice = await signIn(stack, 'alice');
  bob = await signIn(stack, 'bob');
});
afterAll(async () => {
  await nginx?.stop();
  await stack?.stop();
  await up?.stop();
});
beforeEach(() => up.reset());

const token = async (who: SignedIn) => (await who.record()).tokens.accessToken;

interface H2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One browser: its own HTTP/2 connection to nginx and one request on it, the body still open (write to
 * `stream`, then end it). The connection is closed when the test finishes.
 */
function open(who: SignedIn, method: string, path: string, extra: OutgoingHttpHeaders = {}) {
  const session = http2.connect(`http://127.0.0.1:${nginx.port}`);
  session.on('error', () => undefined); // surfaces on the stream
  onTestFinished(() => void session.destroy());
  const stream = session.request(
    { ':method': method, ':path': path, cookie: who.cookie, 'x-csrf': '1', ...extra },
    { endStream: false },
  );
  const answer = new Promise<H2Answer>((resolve, reject) => {
    let head: IncomingHttpHeaders = {};
    const parts: Buffer[] = [];
    stream.on('response', (h) => (head = h));
    stream.on('data', (d: Buffer) => parts.push(d));
    stream.on('end', () =>
      resolve({ status: Number(head[':status']), headers: head, text: Buffer.concat(parts).toString() }),
    );
    stream.on('error', reject);
  });
  answer.catch(() => undefined); // awaited by the caller
  return { stream, answer };
}

async function send(who: SignedIn, method: string, path: string, body = '', extra: OutgoingHttpHeaders = {}) {
  const { stream, answer } = open(who, method, path, extra);
  stream.end(body);
  return answer;
}

/** A complete request to a path outside the route's target: if the upstream logs it, it was smuggled. */
const SMUGGLED = 'GET /internal/smuggled HTTP/1.1\r\nHost: upstream\r\n\r\n';

interface Seen {
  method: string;
  url: string;
  bearer: string | undefined;
}

/** Exactly these upstream requests, in order; every one inside the route's target. */
function expectUpstreamSaw(expected: Seen[]): void {
  expect(up.log.map(({ method, url, bearer }) => ({ method, url, bearer }))).toEqual(expected);
  for (const r of up.log) expect(r.url).toMatch(/^\/v1\//);
}

/** Bob's ordinary request through nginx: answered by the upstream, at his path, with his token. */
async function bobIsServed(tag: string): Promise<Seen> {
  const res = await send(bob, 'GET', `/api/bob-${tag}`);
  const seen = { method: 'GET', url: `/v1/bob-${tag}`, bearer: await token(bob) };
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text)).toMatchObject({ url: seen.url, bearer: seen.bearer });
  return seen;
}

it('an ordinary request: one upstream request, bob’s token, X-Forwarded-* from the trusted proxy', async () => {
  const bobSeen = await bobIsServed('plain');
  expectUpstreamSaw([bobSeen]);
  const { headers } = up.log[0]!;
  // nginx appends the browser's address, the gateway appends nginx's (trusted: loopback).
  expect(headers['x-forwarded-for']).toBe('127.0.0.1, 127.0.0.1');
  expect(headers['x-forwarded-proto']).toBe('http');
  expect(headers['x-forwarded-host']).toBe(`127.0.0.1:${nginx.port}`);
  expect(headers.host).toBe(new URL(up.url).host);
  expect(headers.cookie).toBeUndefined();
});

describe('a body on methods that usually have none', () => {
  const vectors = ['GET', 'HEAD', 'DELETE', 'OPTIONS'].flatMap((method) => [
    { method, length: false },
    { method, length: true },
  ]);
  it.each(vectors)('$method with DATA frames, content-length: $length', async ({ method, length }) => {
    const extra = length ? { 'content-length': Buffer.byteLength(SMUGGLED) } : {};
    const res = await send(alice, method, '/api/attack', SMUGGLED, extra);
    const bobSeen = await bobIsServed('after');
    if (res.status === 400) {
      // The gateway's refusal (not nginx's): the contract's JSON, and nothing reached the upstream.
      if (method !== 'HEAD') expect(JSON.parse(res.text)).toMatchObject({ error: 'bad_request' });
      expectUpstreamSaw([bobSeen]);
      return;
    }
    expect(res.status).toBe(200);
    expectUpstreamSaw([{ method, url: '/v1/attack', bearer: await token(alice) }, bobSeen]);
    expect(up.log[0]!.complete).toBe(true);
    expect(up.log[0]!.body.toString('latin1')).toBe(SMUGGLED);
  });
});

describe("the capture: a smuggled request whose body bob's request would complete", () => {
  // Content-Length 400 swallows a whole request head; the notes store keeps a body while it streams in.
  const notesPost =
    'POST /v1/notes HTTP/1.1\r\nHost: upstream\r\nContent-Type: text/plain\r\nContent-Length: 400\r\n\r\nCAPTURED:';

  it.each(['GET', 'DELETE', 'OPTIONS'])("alice's %s with a body never reads bob's token", async (method) => {
    const [aliceToken, bobToken] = [await token(alice), await token(bob)];
    const attacked = await send(alice, method, '/api/hello', notesPost);

    // A vulnerable gateway feeds bob's request into the smuggled body and bob waits for an answer that
    // never comes: race his answer against the capture, so that case fails fast.
    const bobAnswer = send(bob, 'GET', '/api/bob-capture');
    const first = await Promise.race([
      bobAnswer.then(() => 'answered'),
      up.waitForNote(bobToken).then(() => 'captured'),
    ]);
    const notes = await send(alice, 'GET', '/api/notes');
    expect(notes.status).toBe(200);
    expect(notes.text).not.toContain(bobToken);
    expect(notes.text).not.toContain('CAPTURED');
    expect(up.notes()).toEqual([]);
    expect(first).toBe('answered');

    const bobRes = await bobAnswer;
    expect(bobRes.status).toBe(200);
    expect(JSON.parse(bobRes.text)).toMatchObject({ url: '/v1/bob-capture', bearer: bobToken });
    const bobSeen = { method: 'GET', url: '/v1/bob-capture', bearer: bobToken };
    const readSeen = { method: 'GET', url: '/v1/notes', bearer: aliceToken };
    if (attacked.status === 400) {
      expect(JSON.parse(attacked.text)).toMatchObject({ error: 'bad_request' });
      expectUpstreamSaw([bobSeen, readSeen]);
    } else {
      expect(attacked.status).toBe(200);
      expectUpstreamSaw([{ method, url: '/v1/hello', bearer: aliceToken }, bobSeen, readSeen]);
      expect(up.log[0]!.body.toString()).toBe(notesPost);
    }
  });
});

describe('unbuffered uploads', () => {
  it('a large body streamed slowly reaches the upstream chunk by chunk, once, intact', async () => {
    const CHUNK = 256 * 1024;
    const COUNT = 16; // 4 MiB
    const { stream, answer } = open(alice, 'POST', '/api/upload/notes', {
      'content-type': 'application/octet-stream',
    });
    const sent: Buffer[] = [];
    for (let i = 0; i < COUNT; i++) {
      const marker = `#${i}#`;
      const chunk = Buffer.alloc(CHUNK, 97 + (i % 26));
      chunk.write(marker, CHUNK - marker.length, 'latin1');
      sent.push(chunk);
      stream.write(chunk);
      // The next chunk leaves only once the upstream holds this one: nothing on the way buffers the
      // whole body (with request buffering on, nginx would wait for the end and this would never resolve).
      await up.waitForNote(marker);
    }
    stream.end();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ stored: true });
    expectUpstreamSaw([{ method: 'POST', url: '/v1/upload/notes', bearer: await token(alice) }]);
    expect(up.log[0]!.complete).toBe(true);
    expect(up.log[0]!.body.equals(Buffer.concat(sent))).toBe(true);
  }, 30_000);
});
