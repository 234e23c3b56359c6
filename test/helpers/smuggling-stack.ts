/**
 * The stack the request smuggling files share: a real keep-alive upstream that logs every request it
 * parses per TCP connection, behind a `token: user` route (/api) and a `token: none` route (/public),
 * and two signed-in users (alice attacks, bob is the victim). Its checks: a 400 refusal (Node's or the
 * gateway's), bob still served on a new connection, exactly the expected upstream requests, and one
 * attack vector run end to end (attack, then bob; see test/integration/smuggling-framing.test.ts).
 */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from './gateway.js';
import { RawConnection, type RawResponse } from './raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from './recording-upstream.js';

/** A complete request to a path outside every route's target: if the upstream logs it, it was smuggled. */
export const SMUGGLED = 'GET /internal/smuggled HTTP/1.1\r\nHost: upstream\r\n\r\n';

export interface Seen {
  method: string;
  url: string;
  bearer: string | undefined;
}

export interface Vector {
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

/** Starts the smuggling stack for the calling file (its `beforeAll`), stops it in `afterAll`. */
export function useSmugglingStack() {
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

  /** Exactly these upstream requests, in order; every one inside a route's target. */
  function expectUpstreamSaw(expected: Seen[]): void {
    expect(up.log.map(({ method, url, bearer }) => ({ method, url, bearer }))).toEqual(expected);
    for (const r of up.log) expect(r.url).toMatch(/^\/(v1|pub)\//);
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

  return {
    get up() {
      return up;
    },
    get alice() {
      return alice;
    },
    get bob() {
      return bob;
    },
    get port() {
      return port;
    },
    token,
    signedIn,
    request,
    expectBadRequest,
    expectUpstreamSaw,
    runVector,
  };
}
