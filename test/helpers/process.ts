/** Runs the real entry point (src/main.ts through tsx) as a child process, as `npm start` would. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnGateway as spawnDevGateway, type GatewayChild } from '../../src/dev/gateway.js';
import { waitUntil } from './wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A gateway child; its stdout and stderr are kept (not printed) for the test to read. */
export type GatewayProcess = GatewayChild;

/**
 * The demo's spawnGateway (src/dev/gateway.ts) from the repository root, with only `env` plus PATH (the
 * test's own environment must not leak into the config) and its output kept for assertions.
 */
export function spawnGateway(env: Record<string, string>): GatewayProcess {
  return spawnDevGateway(ROOT, { PATH: process.env.PATH ?? '', ...env }, 'keep');
}

/** Waits until `url` answers `status` (bounded by the test's own timeout and `limitMs`). */
export async function waitForStatus(url: string, status: number, limitMs = 20_000): Promise<void> {
  let got = 0;
  await waitUntil(
    `${url} to answer ${status}`,
    async () => {
      got = await fetch(url).then(
        (r) => r.status,
        () => 0,
      );
      return got === status;
    },
    limitMs,
    100,
  ).catch((err: unknown) => {
    throw new Error(`${url} did not answer ${status} within ${limitMs} ms (last ${got})`, { cause: err });
  });
}
