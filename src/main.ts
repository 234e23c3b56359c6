import { loadConfig, ConfigError } from './config/index.js';
import { createGateway } from './app.js';
import type { GatewayConfig } from './config/types.js';
import { createLogger, describeError } from './observability/logger.js';
import { MetricsListenError } from './observability/metrics-server.js';
import { postLogoutRedirectUri } from './oidc/end-session.js';

/** Process entry: config -> gateway -> listen; graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Every problem at once, one line each naming the variable and the fix; no port has been opened.
      for (const problem of err.problems) console.error(`config error: ${problem.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const gateway = createGateway(config, { logger });
  try {
    await gateway.listen();
  } catch (err) {
    const failure = listenFailure(err, config);
    // The system error itself (the metrics listener's wrapper adds nothing but which one it was).
    const cause = err instanceof MetricsListenError ? err.cause : err;
    logger.fatal({ ...failure.fields, err: describeError(cause) }, failure.message);
    process.exit(1);
  }
  logger.info(
    { port: config.port, host: config.host, publicUrl: config.publicUrl, store: config.redis.mode },
    'gateway listening',
  );
  // The two addresses an IdP must know before the first sign-in and sign-out work.
  logger.info(
    {
      redirectUri: config.redirectUri,
      postLogoutRedirectUri: postLogoutRedirectUri(config.publicUrl),
    },
    'register these URIs at the IdP: redirectUri (sign-in) and postLogoutRedirectUri (sign-out)',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * The one fatal line when a port cannot be opened: which listener, and the setting that changes it
 * (PORT for the gateway, METRICS_PORT for /metrics, HOST for an address this machine does not have).
 */
function listenFailure(
  err: unknown,
  config: GatewayConfig,
): { message: string; fields: Record<string, unknown> } {
  const metrics = err instanceof MetricsListenError;
  const variable = metrics ? 'METRICS_PORT' : 'PORT';
  const port = metrics ? config.metrics.port : config.port;
  const { host } = config;
  const fields = { host, port, variable };
  switch ((err as { code?: unknown }).code) {
    case 'EADDRINUSE':
      return {
        fields,
        message: `port ${port} on ${host} is already in use (${variable}): stop what is using it, or set ${variable} to a free port`,
      };
    case 'EACCES':
      return {
        fields,
        message: `port ${port} on ${host} needs privileges (${variable}): set ${variable} to a port above 1023`,
      };
    case 'EADDRNOTAVAIL':
      return {
        fields: { ...fields, variable: 'HOST' },
        message: `cannot listen on ${host} (HOST): set HOST to an address of this machine, e.g. 0.0.0.0`,
      };
    default:
      return { fields, message: `cannot listen on ${host}:${port} (${variable})` };
  }
}

void main();
