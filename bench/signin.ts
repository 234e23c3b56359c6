/**
 * Sign-ins through the full flow (gateway /auth/login -> the IdP's login and consent pages -> gateway
 * /auth/callback), each from a browser of its own with its own loopback source address (127.1.x.y):
 * many users, as the gateway's per-client-IP login rate limit expects, rather than one IP signing in
 * hundreds of times a minute.
 */
import http from 'node:http';
import { TestBrowser } from '../test/helpers/browser.js';
import { loginThroughIdp } from '../test/helpers/login.js';

/** A TestBrowser whose requests leave from `localAddress` (node:http instead of fetch). */
export class LoopbackBrowser extends TestBrowser {
  constructor(
    private readonly localAddress: string,
    private readonly agent: http.Agent,
  ) {
    super();
  }

  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    if (!headers.has('cookie')) {
      const cookie = this.jar.header(target);
      if (cookie) headers.set('cookie', cookie);
    }
    if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
      throw new Error('LoopbackBrowser sends string bodies only');
    }
    const body = init.body ?? undefined;
    if (body !== undefined) headers.set('content-length', String(Buffer.byteLength(body)));
    const response = await new Promise<Response>((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: init.method ?? 'GET',
          headers: Object.fromEntries(headers),
          localAddress: this.localAddress,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('error', reject);
          res.once('end', () => {
            const status = res.statusCode ?? 0;
            const out = new Headers();
            const raw = res.rawHeaders;
            for (let i = 0; i + 1 < raw.length; i += 2) out.append(raw[i]!, raw[i + 1]!);
            const nullBody = status === 204 || status === 304;
            resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: out }));
          });
        },
      );
      req.once('error', reject);
      req.end(body);
    });
    this.jar.store(target, response);
    return response;
  }
}

/** The i-th simulated client's address: 127.1.0.1, 127.1.0.2, … (all of 127/8 is loopback on Linux). */
export function loopbackAddress(i: number): string {
  const n = i + 1;
  return `127.1.${(n >> 8) & 255}.${n & 255}`;
}

export interface SignedInBrowser {
  browser: TestBrowser;
  /** The Cookie header the browser sends to the gateway (a secret: never print it). */
  cookie: string;
}

/** One sign-in as `login` from source address `localAddress`. Throws unless the callback answers 200. */
export async function signInAt(
  gatewayUrl: string,
  login: string,
  localAddress: string,
  agent: http.Agent,
): Promise<SignedInBrowser> {
  const browser = new LoopbackBrowser(localAddress, agent);
  const result = await loginThroughIdp(browser, gatewayUrl, { login });
  if (result.callbackResponse.status !== 200) {
    throw new Error(`sign-in of ${login} failed: callback answered ${result.callbackResponse.status}`);
  }
  return { browser, cookie: browser.jar.header(gatewayUrl) };
}

export interface SignInRun {
  count: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  failures: number;
}

/**
 * `count` sign-ins with `concurrency` at a time, as users `${loginPrefix}${i}` (distinct accounts,
 * so distinct sessions), from addresses `loopbackAddress(firstIndex + i)`.
 */
export async function signInMany(
  gatewayUrl: string,
  count: number,
  concurrency: number,
  firstIndex: number,
  loginPrefix = 'bench-user-',
): Promise<SignInRun> {
  const agent = new http.Agent({ keepAlive: true });
  let next = 0;
  let failures = 0;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = firstIndex + next++;
      try {
        await signInAt(gatewayUrl, `${loginPrefix}${i}`, loopbackAddress(i), agent);
      } catch (err) {
        failures += 1;
        firstError ??= err;
      }
    }
  };
  const workers = Math.min(concurrency, count);
  const started = process.hrtime.bigint();
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (failures === count && count > 0) throw firstError;
  return { count, concurrency: workers, seconds, perSecond: count / seconds, failures };
}
