/**
 * Builds the validated GatewayConfig from env, the optional BFF_CONFIG file and defaults (env wins
 * over the file, the file over defaults), as the table in settings.ts describes each setting.
 * Every problem is collected, not just the first: ConfigError carries them all, one line each,
 * naming the variable (and the file key) and the fix. Checks that need a bad value skip.
 */
import { readConfigFile, type ConfigFile } from './file.js';
import { Problems } from './problems.js';
import { envValue, Reader, type Context, type Env } from './reader.js';
import { loadRoutes } from './routes.js';
import { loadOidc } from './sections/oidc.js';
import { loadRedis } from './sections/redis.js';
import { loadSecrets, loadSession, loadTokens } from './sections/session.js';
import { loadFrontend, loadMetricsPort, loadPublicUrl } from './sections/web.js';
import type { GatewayConfig } from './types.js';

export { deriveTokenKey } from './sections/session.js';

/** A section that came back undefined although no problem was recorded: a bug in this module. */
function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`config: ${what} is missing without a configuration problem`);
  return value;
}

/**
 * Resolves the gateway configuration. Pure apart from reading the BFF_CONFIG file, the client key
 * file and checking that FRONTEND_DIR exists. Throws ConfigError with every problem found.
 */
export function loadConfig(env: Env): GatewayConfig {
  const problems = new Problems();
  const filePath = envValue(env, 'BFF_CONFIG');
  const file: ConfigFile =
    filePath === undefined ? { data: {}, routes: [] } : readConfigFile(filePath, problems);
  const r = new Reader(env, file.data, filePath, problems);
  const ctx: Context = { r, problems, production: r.value('NODE_ENV') ?? false, warnings: [] };

  const port = r.value('PORT');
  const host = r.value('HOST');
  const publicUrl = loadPublicUrl(ctx, port);
  const oidc = loadOidc(ctx);
  const redis = loadRedis(ctx);
  const secrets = loadSecrets(ctx);
  const session = loadSession(ctx, publicUrl, secrets);
  const tokens = loadTokens(ctx, secrets);
  const trustProxy = r.value('TRUST_PROXY');
  const frontend = loadFrontend(ctx);
  const metricsPort = loadMetricsPort(ctx, port);
  const loginRateLimit = r.value('RATE_LIMIT_LOGIN');
  const contentSecurityPolicy = r.value('CONTENT_SECURITY_POLICY');
  const logLevel = r.value('LOG_LEVEL');
  const routes = loadRoutes(file.routes, filePath ?? 'BFF_CONFIG', r.value('API_TARGET'), problems);

  problems.throwIfAny();
  const origin = defined(publicUrl, 'the public URL').origin;
  return {
    production: ctx.production,
    port: defined(port, 'PORT'),
    host: defined(host, 'HOST'),
    publicUrl: origin,
    redirectUri: `${origin}/auth/callback`,
    oidc: defined(oidc, 'oidc'),
    redis: defined(redis, 'redis'),
    session: defined(session, 'session'),
    tokens: defined(tokens, 'tokens'),
    trustProxy: defined(trustProxy, 'TRUST_PROXY'),
    frontend,
    metrics: { port: metricsPort },
    rateLimit: { login: defined(loginRateLimit, 'RATE_LIMIT_LOGIN') },
    headers: { contentSecurityPolicy },
    logLevel: defined(logLevel, 'LOG_LEVEL'),
    routes,
    warnings: ctx.warnings,
  };
}
