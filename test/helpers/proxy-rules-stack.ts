/**
 * The stack the proxy-rules files share: a recording upstream (logs every request it parses) behind
 * routes of every token type, a GET-only nested route, a 1 s timeout route and a dead target; alice
 * signed in. `send` writes one raw request on a new connection (fetch would normalise paths and
 * headers before the gateway saw them); `only` is the one request the upstream logged.
 */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from './gateway.js';
import { freePort } from './ports.js';
import { RawConnection, type RawResponse } from './raw-http.js';
import { startRecordingUpstream, type LoggedRequest, type RecordingUpstream } from './recording-upstream.js';

/** Starts the proxy-rules stack for the calling file (its `beforeAll`), stops it in `afterAll`. */
export function useProxyRulesStack() {
  let up: RecordingUpstream;
  let stack: Stack;
  let alice: SignedIn;
  let aliceToken: string;

  beforeAll(async () => {
    up = await startRecordingUpstream();
    const deadPort = await freePort();
    stack = await startStack({
      routes: [
        { prefix: '/api', target: `${up.url}/v1`, token: 'user' },
        { prefix: '/api/admin', target: `${up.url}/admin-svc`, token: 'user', methods: ['GET'] },
        { prefix: '/api/quick', target: `${up.url}/v1`, token: 'user', timeout: '1s' },
        { prefix: '/api/down', target: `http://127.0.0.1:${deadPort}`, token: 'user' },
        { prefix: '/public', target: `${up.url}/pub`, token: 'none', csrf: false },
        { prefix: '/maybe', target: `${up.url}/opt`, token: 'optional' },
        { prefix: '/service', target: `${up.url}/svc`, token: 'client', scopes: ['api:read'] },
      ],
    });
    alice = await signIn(stack, 'alice');
    aliceToken = (await alice.record()).tokens.accessToken;
  });
  afterAll(async () => {
    await stack?.stop();
    await up?.stop();
  });
  beforeEach(() => up.reset());

  const gatewayHost = () => new URL(stack.baseUrl).host;
  const asAlice = () => [`Cookie: ${alice.cookie}`, 'X-CSRF: 1'];

  /** One raw request on a new connection; `host` is the Host header sent (default: the gateway's). */
  async function send(
    method: string,
    target: string,
    lines: string[] = asAlice(),
    body = '',
    port = Number(new URL(stack.baseUrl).port),
    host = gatewayHost(),
  ): Promise<RawResponse> {
    const conn = await RawConnection.open(port);
    try {
      await conn.write(
        `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`,
      );
      if (body) await conn.write(body);
      return await conn.response({ method });
    } finally {
      conn.destroy();
    }
  }

  function only(): LoggedRequest {
    expect(up.log).toHaveLength(1);
    return up.log[0]!;
  }

  function expectError(res: RawResponse, status: number, error: string): void {
    expect(res.status).toBe(status);
    expect(JSON.parse(res.text)).toEqual({ error, message: expect.any(String) });
    expect(res.header('cache-control')).toBe('no-store');
  }

  return {
    get up() {
      return up;
    },
    get stack() {
      return stack;
    },
    get alice() {
      return alice;
    },
    get aliceToken() {
      return aliceToken;
    },
    gatewayHost,
    asAlice,
    send,
    only,
    expectError,
  };
}
