/** Runs one demo part on its own (docker-compose.yml): start it, stop it on SIGINT/SIGTERM, exit 0. */
import type { DemoLog } from './log.js';
import { DemoSettingError } from './settings.js';

export async function runStandalone(
  log: DemoLog,
  start: () => Promise<{ stop(): Promise<void> }>,
): Promise<void> {
  let part: { stop(): Promise<void> };
  try {
    part = await start();
  } catch (err) {
    if (err instanceof DemoSettingError) {
      console.error(`demo: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${signal})`);
    part.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
