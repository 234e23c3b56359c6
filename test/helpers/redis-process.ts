/**
 * The process plumbing shared by the Redis test helpers (redis.ts, redis-cluster.ts,
 * redis-sentinel.ts): spawning `redis-server` on a free loopback port until it is ready, temporary
 * directories, polling, running a command, and an assertion client.
 *
 * Never touches the machine's own Redis (6379). If a test run dies before its afterAll, a process
 * 'exit' hook SIGKILLs every process started here that is still running and removes every
 * temporary directory not removed yet.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const dir of liveDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  });
}

/** A temporary directory removed by the exit hook if nobody removes it first (see removeTempDir). */
export async function makeTempDir(prefix: string): Promise<string> {
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** One redis-server (or sentinel) process started by spawnRedisProcess or spawnRedisOnPort. */
export interface RedisProcess {
  port: number;
  pid: number;
  /** What the process printed so far (its log goes to our pipe, never to the console). */
  output(): string;
  /** True until the process exited. */
  alive(): boolean;
  /** SIGKILL and await the exit. Idempotent; works on a SIGSTOPped process too. */
  kill(): Promise<void>;
  /** SIGSTOP: the port stays open and accepts connections, nothing is answered. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

const READY = /Ready to accept connections/;
const START_TIMEOUT_MS = 10_000;

/**
 * Starts `redis-server <args>` on a port the caller chose (as a restart on the same port does) and
 * resolves once its output matches `ready`; kills it and rejects if it exits or is not ready within
 * 10 s. No retry: see spawnRedisProcess for that.
 */
export async function spawnRedisOnPort(
  port: number,
  args: string[],
  ready: RegExp = READY,
): Promise<RedisProcess> {
  installExitHook();
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  let out = '';
  // Keeps collecting after start: output() is for diagnostics.
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill = async (): Promise<void> => {
    if (!alive()) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };

  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (ready.test(out)) done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      done(new Error(`redis-server exited during start (code ${code}, signal ${signal}):\n${out}`));
    const onError = (err: Error): void => done(err);
    const timer = setTimeout(
      () => done(new Error(`redis-server did not become ready within ${START_TIMEOUT_MS} ms:\n${out}`)),
      START_TIMEOUT_MS,
    );
    function done(err?: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) kill().then(() => reject(err), reject);
      else resolve();
    }
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  return {
    port,
    pid: child.pid ?? -1,
    output: () => out,
    alive,
    kill,
    pause: () => {
      if (alive()) child.kill('SIGSTOP');
    },
    resume: () => {
      if (alive()) child.kill('SIGCONT');
    },
  };
}

/**
 * Starts `redis-server <args(port)>` on a free port and resolves once its output matches `ready`.
 * `args` may allocate further ports or write a config file; it is called again for each retry
 * (a free port can be taken by someone else before redis-server binds it).
 */
export async function spawnRedisProcess(
  args: (port: number) => string[] | Promise<string[]>,
  ready: RegExp = READY,
): Promise<RedisProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await spawnRedisOnPort(port, await args(port), ready);
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error && /already in use|Could not create server TCP|bind/i.test(err.message)))
        break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error('redis-server failed to start');
}

/**
 * The flags every test node shares: loopback only, no RDB snapshots, AOF only when asked for,
 * log to our pipe.
 */
export function baseServerArgs(port: number, dir: string, appendOnly = false): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    appendOnly ? 'yes' : 'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--loglevel',
    'notice',
    '--unixsocket',
    '',
  ];
}

/**
 * A standalone ioredis client for assertions (maxRetriesPerRequest 1, commandTimeout 5 s): fails
 * fast, never prints "[ioredis] Unhandled error event" while its server is paused or gone.
 */
export function assertionClient(port: number): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 1,
    commandTimeout: 5_000,
    retryStrategy: (times: number) => Math.min(times * 50, 500),
  });
  client.on('error', () => {});
  return client;
}

// The one poll helper of the tests; re-exported here for the Redis helpers that import it from this module.
export { waitUntil } from './wait.js';

/** Runs a command to completion; rejects with its output on a non-zero exit. */
export function run(command: string, args: string[], limitMs = 20_000): Promise<string> {
  installExitHook();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} failed (code ${code}, signal ${signal}):\n${out}`));
    });
  });
}
