/**
 * A whole stack for integration tests: a real redis-server, a real oidc-provider and the gateway
 * in-process on 127.0.0.1, with its logs captured.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { buildGatewayParts, type GatewayParts } from '../../src/gateway-parts.js';
import { createLogger } from '../../src/observability/logger.js';
import { TestBrowser } from './browser.js';
import { startIdp, type IdpClient, type StartIdpOptions, type TestIdp } from './idp.js';
import { captureLogs, type CapturedLogs } from './logs.js';
import { freePort } from './ports.js';
import { startRedis, type RedisServer } from './redis.js';
import { waitUntil } from './wait.js';

export const CLIENT_ID = 'bff';
export const CLIENT_SECRET = 'bff-test-client-secret-0123456789abcdef';
export const SESSION_SECRET = 'test-session-secret-0123456789abcdefghijklmnop';

export interface StackOptions {
  idp?: StartIdpOptions;
  /** How the gateway's client is registered at the IdP. */
  clientAuth?: IdpClient['token_endpoint_auth_method'];
  /** Extra or overriding gateway env. */
  env?: Record<string, string>;
  /** Routes, written to a config file passed as BFF_CONFIG (the file's keys as in the contract). */
  routes?: Array<Record<string, unknown>>;
  /** Share one redis-server between stacks (not stopped by this stack). */
  redis?: RedisServer;
  /**
   * Point the gateway at another Redis topology instead: e.g. `{ REDIS_CLUSTER_NODES }` or
   * `{ REDIS_SENTINELS, REDIS_SENTINEL_NAME }`. No redis-server is started, REDIS_URL is not set,
   * `stack.redis` is undefined, and start-up also waits until the gateway's store answers.
   */
  redisEnv?: Record<string, string>;
  /** Reuse an IdP (not stopped by this stack); the gateway's client is added to it. */
  sharedIdp?: TestIdp;
  loginRateLimit?: number;
  /** Register the gateway's back-channel logout URI at the IdP (ID tokens then carry `sid`). */
  backchannel?: boolean;
  /** Do not wait for discovery (IdP down at start-up). */
  skipReadyWait?: boolean;
}

export interface Stack<R extends RedisServer | undefined = RedisServer> {
  baseUrl: string;
  /** undefined with `redisEnv` (the caller owns that Redis). */
  redis: R;
  idp: TestIdp;
  /** What main.ts gets: `app`, `listen`, `close`. */
  gateway: Gateway;
  /** The gateway's parts, built here and handed to createGateway: the store, its keys, the vault, ... */
  parts: GatewayParts;
  /** The config the gateway was built from (`env` loaded). */
  config: GatewayConfig;
  logs: CapturedLogs;
  env: Record<string, string>;
  /** Added to the gateway's clock (login expiry). */
  clock: { offsetMs: number };
  browser(): TestBrowser;
  stop(): Promise<void>;
}

export function startStack(
  options: StackOptions & { redisEnv: Record<string, string> },
): Promise<Stack<undefined>>;
export function startStack(options?: StackOptions & { redisEnv?: undefined }): Promise<Stack>;
export async function startStack(options: StackOptions = {}): Promise<Stack<RedisServer | undefined>> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const redis = options.redisEnv ? undefined : (options.redis ?? (await startRedis()));
  const client: IdpClient = {
    // A shared IdP already knows CLIENT_ID with another redirect URI.
    client_id: options.sharedIdp ? `${CLIENT_ID}-${port}` : CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: options.clientAuth ?? 'client_secret_basic',
    redirect_uris: [`${baseUrl}/auth/callback`],
    post_logout_redirect_uris: [`${baseUrl}/`],
    ...(options.backchannel ? { backchannel_logout_uri: `${baseUrl}/auth/backchannel-logout` } : {}),
  };
  let idp: TestIdp;
  if (options.sharedIdp) {
    idp = options.sharedIdp;
    idp.addClient(client);
  } else {
    idp = await startIdp({ clients: [client], ...options.idp });
  }
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    BFF_PUBLIC_URL: baseUrl,
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: client.client_id,
    OIDC_CLIENT_SECRET: client.client_secret,
    ...(redis ? { REDIS_URL: redis.url } : options.redisEnv),
    SESSION_SECRET,
    LOG_LEVEL: 'debug',
    ...(options.clientAuth ? { OIDC_CLIENT_AUTH: options.clientAuth } : {}),
    ...(options.routes ? { BFF_CONFIG: writeRoutesFile(options.routes) } : {}),
    ...options.env,
  };
  const logs = captureLogs();
  const clock = { offsetMs: 0 };
  const config = loadConfig(env);
  const gatewayOptions: GatewayOptions = {
    logger: createLogger(config.logLevel, logs.stream),
    now: () => Date.now() + clock.offsetMs,
    ...(options.loginRateLimit !== undefined ? { loginRateLimit: options.loginRateLimit } : {}),
  };
  const parts = buildGatewayParts(config, gatewayOptions);
  const gateway = createGateway(config, gatewayOptions, parts);
  await gateway.listen();
  if (!options.skipReadyWait) await parts.idp.whenReady();
  if (options.redisEnv && !options.skipReadyWait) await storeAnswers(parts);

  return {
    baseUrl,
    redis,
    idp,
    gateway,
    parts,
    config,
    logs,
    env,
    clock,
    browser: () => new TestBrowser(),
    async stop() {
      await gateway.close();
      if (!options.sharedIdp) await idp.stop();
      if (!options.redis) await redis?.stop();
    },
  };
}

/** Cluster and Sentinel clients need a moment (slot map, master lookup) before the first command. */
function storeAnswers(parts: GatewayParts, limitMs = 10_000): Promise<true> {
  return waitUntil(
    "the gateway's Redis to answer",
    async () => {
      await parts.stores.kv.ping();
      return true as const;
    },
    limitMs,
  );
}

function writeRoutesFile(routes: Array<Record<string, unknown>>): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bff-routes-')), 'gateway.json');
  writeFileSync(file, JSON.stringify({ routes }));
  return file;
}

/** The session id inside a signed session cookie value (`s:<id>.<signature>`, URL-encoded). */
export function sessionIdFromCookie(value: string): string {
  const decoded = decodeURIComponent(value);
  if (!decoded.startsWith('s:')) throw new Error(`not a signed session cookie: ${decoded.slice(0, 8)}…`);
  return decoded.slice(2, decoded.lastIndexOf('.'));
}

export interface SignedIn {
  browser: TestBrowser;
  sid: string;
  /** The `Cookie` header value the browser sends to the gateway. */
  cookie: string;
  /** The stored session record (read with the browser's id, as the gateway does). */
  record(): Promise<import('../../src/session/records/record.js').SessionRecord>;
  /** Marks the stored access token as expired, as if its lifetime had passed. */
  expireAccessToken(): Promise<void>;
  /** fetch on the gateway with the session cookie and `X-CSRF: 1`. */
  api(path: string, init?: RequestInit): Promise<Response>;
}

export async function signIn(stack: Stack<RedisServer | undefined>, login = 'alice'): Promise<SignedIn> {
  const browser = stack.browser();
  const { loginThroughIdp } = await import('./login.js');
  const result = await loginThroughIdp(browser, stack.baseUrl, { login });
  if (result.callbackResponse.status !== 200) throw new Error(`login failed: ${result.callbackBody}`);
  const sid = sessionIdFromCookie(browser.jar.get(stack.baseUrl, 'bff-session')!);
  const read = async () => {
    const loaded = await stack.parts.records.read(sid);
    if (!loaded) throw new Error('session not stored');
    return loaded;
  };
  return {
    browser,
    sid,
    cookie: browser.jar.header(stack.baseUrl),
    record: async () => (await read()).record,
    async expireAccessToken() {
      const loaded = await read();
      const now = Date.now();
      const ok = await stack.parts.records.replace(loaded, {
        ...loaded.record,
        accessTokenIssuedAt: now - 61_000,
        accessTokenExpiresAt: now - 1_000,
      });
      if (!ok) throw new Error('could not expire the access token');
    },
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('x-csrf')) headers.set('x-csrf', '1');
      return browser.fetch(`${stack.baseUrl}${path}`, { ...init, headers });
    },
  };
}
