/**
 * The stack the proxy integration files share: an echoing upstream behind eight routes (every token
 * type, a method list, a 1 s timeout, a dead target), a gateway, and alice signed in. The upstream's
 * record is cleared before each test; `lastSeen` is what it saw last, `rawRequest` sends a request as
 * written (fetch would normalise `..` and refuse some headers).
 */
import http from 'node:http';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { signIn, startStack, type SignedIn, type Stack } from './gateway.js';
import { freePort } from './ports.js';
import { startUpstream, type SeenRequest, type Upstream } from './upstream.js';

export interface ProxyWorld {
  readonly stack: Stack;
  readonly upstream: Upstream;
  readonly alice: SignedIn;
  lastSeen(): SeenRequest;
  rawRequest(
    path: string,
    headers?: Record<string, string>,
    method?: string,
  ): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>;
}

/** Starts the proxy stack for the calling file (its `beforeAll`), stops it in `afterAll`. */
export function useProxyStack(): ProxyWorld {
  let started: { stack: Stack; upstream: Upstream; alice: SignedIn } | undefined;
  let upstream: Upstream | undefined;
  let stack: Stack | undefined;
  const running = () => {
    if (!started) throw new Error('the proxy stack is not started');
    return started;
  };
  beforeAll(async () => {
    upstream = await startUpstream();
    const deadPort = await freePort();
    stack = await startStack({
      routes: [
        { prefix: '/api', target: `${upstream.url}/v1`, token: 'user' },
        {
          prefix: '/api/orders',
          target: `${upstream.url}/orders-service`,
          token: 'user',
          methods: ['GET', 'POST'],
        },
        { prefix: '/api/slow', target: `${upstream.url}/slow`, token: 'user', timeout: '1s' },
        { prefix: '/api/down', target: `http://127.0.0.1:${deadPort}`, token: 'user' },
        { prefix: '/service', target: upstream.url, token: 'client', scopes: ['api:read'] },
        { prefix: '/public', target: upstream.url, token: 'none', csrf: false },
        { prefix: '/maybe', target: upstream.url, token: 'optional' },
        { prefix: '/live', target: upstream.url, token: 'user', timeout: '1s' },
      ],
    });
    started = { stack, upstream, alice: await signIn(stack, 'alice') };
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.stop();
  });
  beforeEach(() => running().upstream.reset());

  return {
    get stack() {
      return running().stack;
    },
    get upstream() {
      return running().upstream;
    },
    get alice() {
      return running().alice;
    },
    lastSeen() {
      const seen = running().upstream.requests.at(-1);
      if (!seen) throw new Error('the upstream saw nothing');
      return seen;
    },
    rawRequest(path, headers = {}, method = 'GET') {
      const { port } = new URL(running().stack.baseUrl);
      return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        });
        req.on('error', reject);
        req.end();
      });
    },
  };
}
