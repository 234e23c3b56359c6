/**
 * The gateway as a child process, exactly as `npm run dev` runs it (src/main.ts through tsx),
 * configured by env and a config file. Its JSON log lines are shortened for the console.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { formatGatewayLine, line } from './log.js';

export interface GatewayChild {
  child: ChildProcess;
  /** Resolves when the child exits, with its code or signal. */
  exited: Promise<number | NodeJS.Signals>;
  /** The last lines it wrote to stderr (for a start-up failure). */
  stderrTail(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnGateway(root: string, env: Record<string, string>, rawLogs: boolean): GatewayChild {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    console.log(rawLogs ? text : formatGatewayLine(text));
  });
  createInterface({ input: child.stderr! }).on('line', (text) => {
    if (text.includes('ExperimentalWarning') || text.includes('--trace-warnings')) return;
    tail.push(text);
    if (tail.length > 20) tail.shift();
    console.error(line('gateway', 'error', text));
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 1)),
  );
  return {
    child,
    exited,
    stderrTail: () => [...tail],
    async stop(graceMs = 12_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(force);
    },
  };
}

/** Polls /readyz until 200; fails when the child exits first or `limitMs` passes. */
export async function waitUntilReady(url: string, gateway: GatewayChild, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  let exitedWith: number | string | undefined;
  void gateway.exited.then((code) => (exitedWith = code));
  for (;;) {
    if (exitedWith !== undefined) throw new Error(`the gateway exited during start-up (${exitedWith})`);
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the gateway was not ready within ${limitMs / 1000} s (GET /readyz answered ${status})`,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}
