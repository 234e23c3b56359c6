/**
 * Redis for the demo: REDIS_URL when set; else a throw-away `redis-server` on a free loopback port
 * when one is on the PATH (no persistence, a temporary directory); else none, and the gateway keeps
 * sessions in memory (it warns about that itself).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

export interface DemoRedis {
  /** What the gateway gets as REDIS_URL; undefined: the in-memory store. */
  url: string | undefined;
  /** One line for the banner. */
  description: string;
  /** The redis-server the demo started, if any. */
  child: ChildProcess | undefined;
  stop(): Promise<void>;
}

const READY = /Ready to accept connections/;

/** `name` resolved on the PATH, or undefined. */
export function onPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}

async function spawnRedis(binary: string, host: string, port: number, dir: string): Promise<ChildProcess> {
  // prettier-ignore
  const args = [
    '--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir,
    '--daemonize', 'no', '--logfile', '', '--unixsocket', '', '--protected-mode', 'yes',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (READY.test(output)) finish();
    };
    const onExit = (code: number | null) =>
      finish(new Error(`redis-server exited (code ${code}):\n${output}`));
    const onError = (err: Error) => finish(err);
    function finish(err?: Error) {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      // Keep draining its output so the pipe never fills up.
      child.stdout?.resume();
      child.stderr?.resume();
      if (err) reject(err);
      else resolve();
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  return child;
}

export async function startDemoRedis(
  env: Record<string, string | undefined>,
  host: string,
): Promise<DemoRedis> {
  const given = env.REDIS_URL?.trim();
  if (given) {
    return {
      url: given,
      description: `${redactUrl(given)} (REDIS_URL)`,
      child: undefined,
      stop: async () => {},
    };
  }
  const binary = onPath('redis-server', env.PATH);
  if (!binary) {
    return {
      url: undefined,
      description: 'none: no REDIS_URL and no redis-server on the PATH, so sessions are kept in memory',
      child: undefined,
      stop: async () => {},
    };
  }

  const dir = await mkdtemp(path.join(tmpdir(), 'bff-demo-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  // Another process may take the free port before redis-server binds it: try again then.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort(host);
    try {
      child = await spawnRedis(binary, host, port, dir);
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error && /already in use/i.test(err.message))) break;
    }
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error('redis-server did not start');
  }
  const started = child;
  const address = host.includes(':') ? `[${host}]` : host;
  let stopped = false;
  return {
    url: `redis://${address}:${port}`,
    description: `redis-server on ${address}:${port} (started by the demo, nothing persisted)`,
    child: started,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (started.exitCode === null && started.signalCode === null) {
        const exited = new Promise((resolve) => started.once('exit', resolve));
        started.kill('SIGTERM');
        const force = setTimeout(() => started.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(force);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
