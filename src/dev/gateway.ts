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
  /** Everything it wrote to stdout / stderr so far; kept only with output `'keep'` (the tests), else ''. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * What becomes of the child's output: printed shortened (`false`, the demo's default), printed as the
 * raw JSON lines (`true`), or kept in memory and not printed (`'keep'`: the tests read it).
 */
export type GatewayOutput = boolean | 'keep';

export function spawnGateway(root: string, env: Record<string, string>, output: GatewayOutput): GatewayChild {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  let out = '';
  let err = '';
  if (output === 'keep') {
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  }
  createInterface({ input: child.stdout! }).on('line', (text) => {
    if (output !== 'keep') console.log(output ? text : formatGatewayLine(text));
  });
  createInterface({ input: child.stderr! }).on('line', (text) => {
    if (text.includes('ExperimentalWarning') || text.includes('--trace-warnings')) return;
    tail.push(text);
    if (tail.length > 20) tail.shift();
    if (output !== 'keep') console.error(line('gateway', 'error', text));
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 1)),
  );
  return {
    child,
    exited,
    stderrTail: () => [...tail],
    stdout: () => out,
    stderr: () => err,
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
