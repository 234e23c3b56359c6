import { loadConfig, ConfigError } from './config/index.js';
import { createGateway } from './app.js';
import { createLogger } from './observability/logger.js';

/** Process entry: config -> gateway -> listen; graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line, naming the variable and the fix; no port has been opened.
      console.error(`config error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const gateway = createGateway(config, { logger });
  try {
    await gateway.listen();
  } catch (err) {
    logger.fatal(
      { err: { message: (err as Error).message, code: (err as { code?: unknown }).code } },
      `cannot listen on ${config.host}:${config.port}`,
    );
    process.exit(1);
  }
  logger.info(
    { port: config.port, host: config.host, publicUrl: config.publicUrl, store: config.redis.mode },
    'gateway listening',
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

void main();
