/**
 * The bench's child processes: spawning Node scripts (through tsx) with an IPC channel, waiting for
 * their "ready" message, stopping them, and reading their CPU time and RSS from /proc.
 *
 * Every child is remembered until it exits; if the bench process exits without stopping one (an
 * error, a signal), an 'exit' hook SIGKILLs it. Each child also loads exit-with-parent.ts, which ends
 * it when its IPC channel closes, so not even a SIGKILLed bench leaves one behind.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, ROOT } from './knobs.js';

const live = new Set<ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Tracks any child (wrk too) so the exit hook kills it if the bench dies first. */
export function track(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export interface NodeChild {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last few KiB of what the child wrote to stderr. */
  stderr(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** The first IPC message the child sends (bench servers send `{ port }` once listening). */
  ready: Promise<unknown>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnNodeOptions {
  env: Record<string, string>;
  /** Node flags placed before the loader (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Where stdout goes: an fd (e.g. of /dev/null) or 'ignore'. Never piped into the bench. */
  stdout?: number | 'ignore';
}

const EXIT_WITH_PARENT = path.join(BENCH_DIR, 'servers', 'exit-with-parent.ts');
const STDERR_TAIL = 16 * 1024;

/** `node [nodeArgs] --import tsx --import exit-with-parent.ts <script>`, cwd = the repo root. */
export function spawnNode(name: string, script: string, options: SpawnNodeOptions): NodeChild {
  const args = [...(options.nodeArgs ?? []), '--import', 'tsx', '--import', EXIT_WITH_PARENT, script];
  const stdio: StdioOptions = ['ignore', options.stdout ?? 'ignore', 'pipe', 'ipc'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // Only what we give it, plus PATH: the bench's own environment must not leak into a config.
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio,
  });
  track(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString('utf8')).slice(-STDERR_TAIL);
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const ready = new Promise<unknown>((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${err}`)));
  });
  ready.catch(() => {}); // callers that never await it must not see an unhandled rejection
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  return { name, pid: child.pid, child, stderr: () => err, exited, ready, stop };
}

/** Waits for a bench server's `{ port }` message, bounded by `limitMs`. */
export async function readyPort(child: NodeChild, limitMs = 30_000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${child.name} not ready within ${limitMs} ms:\n${child.stderr()}`)),
      limitMs,
    );
  });
  try {
    const message = await Promise.race([child.ready, timeout]);
    const port = (message as { port?: unknown } | null)?.port;
    if (typeof port !== 'number') throw new Error(`${child.name} sent ${JSON.stringify(message)}`);
    return port;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command to completion and returns its stdout; rejects on a non-zero exit. */
export async function runCommand(command: string, args: string[]): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`${command} failed (code ${code}, signal ${signal}): ${err || out}`);
  return out;
}

/** Whether `command` is an executable on the PATH. */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

let clkTck: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, normally 100). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout;
    const value = Number(out?.trim());
    clkTck = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return clkTck;
}

/** utime + stime of a process, in clock ticks. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime (field 15) fields[12].
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU µs of `pid` since `startTicks` (a cpuTicks reading). */
export function cpuMicrosSince(pid: number, startTicks: number): number {
  return ((cpuTicks(pid) - startTicks) * 1e6) / clockTicksPerSecond();
}

/** Resident set size of a process, in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** A path for messages: relative to the working directory when inside it, else absolute. */
export function shownPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}
