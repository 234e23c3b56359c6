/**
 * The log lines the README's troubleshooting table points to, each produced by the fault it names:
 * a wrong client secret at a real oidc-provider, a mistyped issuer path, a discovery document naming
 * another issuer, a port in use (the real process), and the URIs to register at start-up.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { CLIENT_ID, SESSION_SECRET, startStack, type Stack } from '../helpers/gateway.js';
import { captureLogs } from '../helpers/logs.js';
import { callback, completeAtIdp, startLogin } from '../helpers/login.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, type GatewayProcess } from '../helpers/process.js';
import { waitUntil } from '../helpers/wait.js';

const EXCHANGE_REFUSED = 'code exchange refused or ID token invalid';
const DISCOVERY_FAILED = 'OpenID Provider discovery failed; retrying';

let stack: Stack;
beforeAll(async () => {
  // The IdP knows the gateway's client with another secret: every code exchange is refused.
  stack = await startStack({ env: { OIDC_CLIENT_SECRET: 'not-the-registered-secret-0123456789abcdef' } });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.idp.setTokenAnswer(undefined);
  stack.logs.clear();
});

/** A real sign-in up to the callback; returns the code the IdP issued (sent to the gateway). */
async function refusedCallback(): Promise<string> {
  const browser = stack.browser();
  const cb = await completeAtIdp(browser, await startLogin(browser, stack.baseUrl), 'alice');
  const code = cb.searchParams.get('code');
  expect(code).toMatch(/^[\w-]{20,}$/);
  const { response, body } = await callback(browser, cb);
  expect(response.status).toBe(400);
  expect(body).toContain('<code id="error-code">exchange_failed</code>');
  return code!;
}

function exchangeLine(): Record<string, unknown> | undefined {
  return stack.logs.json().find((l) => l.msg === EXCHANGE_REFUSED);
}

/** How the refused exchange's error is logged: the IdP's answer behind the challenge, the code kept. */
const challengeError = (description: string) => ({
  type: 'WWWAuthenticateChallengeError',
  message: 'server responded with a challenge in the WWW-Authenticate HTTP Header',
  code: 'OAUTH_WWW_AUTHENTICATE_CHALLENGE',
  error: 'invalid_client',
  error_description: description,
  status: 401,
});

/** A log line as asserted: everything but its timestamp. */
function untimed(line: Record<string, unknown> | undefined): Record<string, unknown> {
  const { time, ...rest } = line ?? {};
  expect(time).toEqual(expect.any(String));
  return rest;
}

describe('a refused code exchange names the IdP error; the callback code never reaches a log', () => {
  it('wrong client secret with Basic auth: the 401 challenge is logged with invalid_client and err.code', async () => {
    const code = await refusedCallback();
    expect(untimed(exchangeLine())).toEqual({
      level: 'warn',
      service: 'bff-gateway',
      msg: EXCHANGE_REFUSED,
      // err.code is there, never "[redacted]": error codes are not secrets.
      err: challengeError('client authentication failed'),
    });
    // The request line is there (path only), and the code the browser brought is nowhere.
    const text = stack.logs.text();
    expect(stack.logs.json().some((l) => (l.req as { path?: string })?.path === '/auth/callback')).toBe(true);
    expect(text).not.toContain(code);
    expect(text).not.toContain('[redacted]');
  });

  it('the redaction net: a callback query handed to the logger loses its code, an error keeps its code', () => {
    const logs = captureLogs();
    createLogger('info', logs.stream).info(
      {
        query: { code: 'c0de-1', state: 's' },
        callbackQuery: '?code=c0de-2',
        req: { params: { code: 'c0de-3' } },
        err: { code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED' },
      },
      'oops',
    );
    expect(logs.text()).not.toMatch(/c0de-/);
    expect(untimed(logs.json()[0])).toEqual({
      level: 'info',
      service: 'bff-gateway',
      msg: 'oops',
      query: { code: '[redacted]', state: 's' },
      callbackQuery: '[redacted]',
      req: { params: { code: '[redacted]' } },
      err: { code: 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED' },
    });
  });

  it('401 + WWW-Authenticate: Basic with invalid_client only in the JSON body: still named', async () => {
    stack.idp.setTokenAnswer({
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="idp"', 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'invalid_client', error_description: 'no such secret' }),
    });
    const code = await refusedCallback();
    expect(exchangeLine()?.err).toEqual(challengeError('no such secret'));
    expect(stack.idp.answeredTokenRequests.at(-1)?.get('code')).toBe(code);
    expect(stack.logs.text()).not.toContain(code);
  });
});

/** The settings of a gateway on 127.0.0.1:`port` (no Redis: the memory store). */
function gatewayEnv(port: number, issuer: string): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    BFF_PUBLIC_URL: `http://127.0.0.1:${port}`,
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: 'secret-0123456789abcdef',
    SESSION_SECRET,
  };
}

/** A gateway in-process (memory store) against `issuer`, until its first discovery failure is logged. */
async function firstDiscoveryFailure(issuer: string): Promise<Record<string, unknown>> {
  const logs = captureLogs();
  const port = await freePort();
  const config = loadConfig(gatewayEnv(port, issuer));
  const gateway = createGateway(config, { logger: createLogger('info', logs.stream) });
  await gateway.listen();
  try {
    return await waitUntil('the discovery failure line', async () =>
      logs.json().find((l) => l.msg === DISCOVERY_FAILED),
    );
  } finally {
    await gateway.close();
  }
}

describe('discovery failures name the URL, the status and both issuers', () => {
  let impostor: Server;
  let impostorUrl: string;
  beforeAll(async () => {
    // An IdP whose discovery document names another issuer (an internal host name behind a proxy).
    impostor = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: 'http://idp.internal:8080/realms/main' }));
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}/realms/main`;
  });
  afterAll(async () => {
    await new Promise((resolve) => impostor?.close(resolve));
  });

  it('a mistyped issuer path at a real oidc-provider: the document URL and HTTP 404', async () => {
    const issuer = `${stack.idp.issuer}/realms/mian`;
    const line = await firstDiscoveryFailure(issuer);
    expect(untimed(line)).toEqual({
      level: 'warn',
      service: 'bff-gateway',
      msg: DISCOVERY_FAILED,
      issuer,
      url: `${stack.idp.issuer}/realms/mian/.well-known/openid-configuration`,
      status: 404,
      attempt: 1,
      retryInMs: 500,
      err: {
        type: 'ClientError',
        message: 'unexpected HTTP response status code',
        code: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
        status: 404,
      },
    });
  });

  it('an unreachable issuer: the URL, no status, and why in err.cause.code', async () => {
    const issuer = `http://127.0.0.1:${await freePort()}`;
    const line = await firstDiscoveryFailure(issuer);
    expect(line).toMatchObject({ url: `${issuer}/.well-known/openid-configuration` });
    expect(line).not.toHaveProperty('status');
    expect(line.err).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
  });

  it('an issuer mismatch: the configured and the discovered issuer', async () => {
    const line = await firstDiscoveryFailure(impostorUrl);
    expect(untimed(line)).toEqual({
      level: 'warn',
      service: 'bff-gateway',
      msg: DISCOVERY_FAILED,
      attempt: 1,
      retryInMs: 500,
      issuer: impostorUrl,
      discoveredIssuer: 'http://idp.internal:8080/realms/main',
      url: `${impostorUrl}/.well-known/openid-configuration`,
      err: {
        type: 'ClientError',
        message: 'discovered metadata issuer does not match the expected issuer',
        code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
      },
    });
  });
});

/** The real entry point against the real IdP (memory store: no Redis needed). */
function gatewayProcess(port: number, extra: Record<string, string> = {}): GatewayProcess {
  return spawnGateway({ ...gatewayEnv(port, stack.idp.issuer), ...extra });
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the real process', () => {
  it.each([
    ['PORT', (taken: number, free: number) => ({ port: taken, metrics: free })],
    ['METRICS_PORT', (taken: number, free: number) => ({ port: free, metrics: taken })],
  ])('a port in use: one fatal line naming %s, exit 1', async (variable, setup) => {
    const holder = createNetServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    try {
      const { port, metrics } = setup(taken, await freePort());
      const proc = gatewayProcess(port, { METRICS_PORT: String(metrics) });
      expect(await proc.exited).toBe(1);
      const fatal = jsonLines(proc.stdout()).filter((l) => l.level === 'fatal');
      expect(fatal).toHaveLength(1);
      expect(untimed(fatal[0])).toEqual({
        level: 'fatal',
        service: 'bff-gateway',
        msg: `port ${taken} on 127.0.0.1 is already in use (${variable}): stop what is using it, or set ${variable} to a free port`,
        variable,
        host: '127.0.0.1',
        port: taken,
        err: {
          type: 'Error',
          message: `listen EADDRINUSE: address already in use 127.0.0.1:${taken}`,
          code: 'EADDRINUSE',
        },
      });
      expect(proc.stdout()).not.toContain('gateway listening');
      expect(proc.stderr()).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('an address this machine does not have: one fatal line naming HOST, exit 1', async () => {
    const port = await freePort();
    const proc = gatewayProcess(port, { HOST: '192.0.2.1' }); // TEST-NET-1: never local
    expect(await proc.exited).toBe(1);
    expect(jsonLines(proc.stdout()).filter((l) => l.level === 'fatal')).toMatchObject([
      {
        msg: 'cannot listen on 192.0.2.1 (HOST): set HOST to an address of this machine, e.g. 0.0.0.0',
        variable: 'HOST',
        err: { code: 'EADDRNOTAVAIL' },
      },
    ]);
  });

  it('at start: one line with the URIs to register at the IdP; registered, sign-in and sign-out use them', async () => {
    const port = await freePort();
    const clientId = `bff-process-${port}`;
    const proc = gatewayProcess(port, { OIDC_CLIENT_ID: clientId, LOG_LEVEL: 'debug' });
    try {
      const line = await waitUntil('the URIs line', async () =>
        jsonLines(proc.stdout()).find((l) => typeof l.redirectUri === 'string'),
      );
      const base = `http://127.0.0.1:${port}`;
      expect(untimed(line)).toEqual({
        level: 'info',
        service: 'bff-gateway',
        msg: 'register these URIs at the IdP: redirectUri (sign-in) and postLogoutRedirectUri (sign-out)',
        redirectUri: `${base}/auth/callback`,
        postLogoutRedirectUri: `${base}/`,
      });
      // Registered exactly as logged, they are the ones the gateway sends.
      stack.idp.addClient({
        client_id: clientId,
        client_secret: 'secret-0123456789abcdef',
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [line.redirectUri as string],
        post_logout_redirect_uris: [line.postLogoutRedirectUri as string],
      });
      await waitUntil('discovery', async () => (await fetch(`${base}/readyz`)).status === 200);
      const browser = stack.browser();
      const cb = await completeAtIdp(browser, await startLogin(browser, base), 'alice');
      expect(new URL(cb.pathname, cb).href).toBe(line.redirectUri);
      expect((await callback(browser, cb)).response.status).toBe(200);
      const logout = await browser.fetch(`${base}/auth/logout`, {
        method: 'POST',
        headers: { 'x-csrf': '1' },
      });
      const { logoutUrl } = (await logout.json()) as { logoutUrl: string };
      expect(new URL(logoutUrl).searchParams.get('post_logout_redirect_uri')).toBe(
        line.postLogoutRedirectUri,
      );
      // A successful callback's code stays out of the process's logs too (debug level).
      expect(proc.stdout()).toContain('"msg":"signed in"');
      expect(proc.stdout()).not.toContain(cb.searchParams.get('code')!);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });
});
