/**
 * A whole stack for integration tests: a real redis-server, a real oidc-provider and the gateway
 * in-process on 127.0.0.1, with its logs captured.
 */
import { createGateway, type Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { TestBrowser } from './browser.js';
import { startIdp, type IdpClient, type StartIdpOptions, type TestIdp } from './idp.js';
import { captureLogs, type CapturedLogs } from './logs.js';
import { freePort } from './ports.js';
import { startRedis, type RedisServer } from './redis.js';

export const CLIENT_ID = 'bff';
export const CLIENT_SECRET = 'bff-test-client-secret-0123456789abcdef';
export const SESSION_SECRET = 'test-session-secret-0123456789abcdefghijklmnop';

export interface StackOptions {
  idp?: StartIdpOptions;
  /** How the gateway's client is registered at the IdP. */
  clientAuth?: IdpClient['token_endpoint_auth_method'];
  /** Extra or overriding gateway env. */
  env?: Record<string, string>;
  /** Share one redis-server between stacks (not stopped by this stack). */
  redis?: RedisServer;
  /** Reuse an IdP (not stopped by this stack); the gateway's client is added to it. */
  sharedIdp?: TestIdp;
  loginRateLimit?: number;
  /** Do not wait for discovery (IdP down at start-up). */
  skipReadyWait?: boolean;
}

export interface Stack {
  baseUrl: string;
  redis: RedisServer;
  idp: TestIdp;
  gateway: Gateway;
  logs: CapturedLogs;
  env: Record<string, string>;
  /** Added to the gateway's clock (login expiry). */
  clock: { offsetMs: number };
  browser(): TestBrowser;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const redis = options.redis ?? (await startRedis());
  const client: IdpClient = {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: options.clientAuth ?? 'client_secret_basic',
    redirect_uris: [`${baseUrl}/auth/callback`],
    post_logout_redirect_uris: [`${baseUrl}/`],
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
    REDIS_URL: redis.url,
    SESSION_SECRET,
    LOG_LEVEL: 'debug',
    ...(options.clientAuth ? { OIDC_CLIENT_AUTH: options.clientAuth } : {}),
    ...options.env,
  };
  const logs = captureLogs();
  const clock = { offsetMs: 0 };
  const config = loadConfig(env);
  const gateway = createGateway(config, {
    logger: createLogger(config.logLevel, logs.stream),
    now: () => Date.now() + clock.offsetMs,
    ...(options.loginRateLimit !== undefined ? { loginRateLimit: options.loginRateLimit } : {}),
  });
  await gateway.listen();
  if (!options.skipReadyWait) await gateway.idp.whenReady();

  return {
    baseUrl,
    redis,
    idp,
    gateway,
    logs,
    env,
    clock,
    browser: () => new TestBrowser(),
    async stop() {
      await gateway.close();
      if (!options.sharedIdp) await idp.stop();
      if (!options.redis) await redis.stop();
    },
  };
}

/** The session id inside a signed session cookie value (`s:<id>.<signature>`, URL-encoded). */
export function sessionIdFromCookie(value: string): string {
  const decoded = decodeURIComponent(value);
  if (!decoded.startsWith('s:')) throw new Error(`not a signed session cookie: ${decoded.slice(0, 8)}…`);
  return decoded.slice(2, decoded.lastIndexOf('.'));
}
