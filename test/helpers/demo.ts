/**
 * `npm run demo` as a child process (src/dev/demo.ts through tsx) on free ports, for the e2e tests.
 *
 *   const demo = await startDemo({ accessTokenTtl: 5 });
 *   afterAll(async () => { await demo?.kill(); });   // SIGKILLs the whole process group if still running
 *
 * It is started in a process group of its own so that a failed test can never leave its children
 * (the gateway, redis-server) behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface DemoProcess {
  child: ChildProcess;
  /** `http://localhost:PORT` (the URL the demo prints). */
  url: string;
  ports: { gateway: number; idp: number; api: number; redis: number | undefined };
  stdout(): string;
  stderr(): string;
  exited: Promise<number | string>;
  /** Sends `signal` to the demo process only (as `kill -TERM <pid>` would), resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** SIGKILL to the demo's whole process group (cleanup). */
  kill(): Promise<void>;
}

export interface StartDemoOptions {
  accessTokenTtl?: number;
  /** Extra env (e.g. DEMO_PORT set to a taken port). */
  env?: Record<string, string>;
  limitMs?: number;
}

export function spawnDemo(env: Record<string, string>): {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | string>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/dev/demo.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

export async function startDemo(options: StartDemoOptions = {}): Promise<DemoProcess> {
  const [gateway, idp, api] = [await freePort(), await freePort(), await freePort()];
  const proc = spawnDemo({
    DEMO_PORT: String(gateway),
    DEMO_IDP_PORT: String(idp),
    DEMO_API_PORT: String(api),
    ...(options.accessTokenTtl ? { DEMO_ACCESS_TOKEN_TTL: String(options.accessTokenTtl) } : {}),
    ...options.env,
  });
  const url = `http://localhost:${gateway}`;
  let exitCode: number | string | undefined;
  void proc.exited.then((code) => (exitCode = code));

  const kill = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    try {
      process.kill(-proc.child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await proc.exited;
  };

  // Ready when it prints the line that invites the user in: awaited on its output, not polled.
  const ready = await new Promise<'ready' | 'exited' | 'late'>((resolve) => {
    const limit = setTimeout(() => resolve('late'), options.limitMs ?? 45_000);
    const check = (): void => {
      if (!proc.stdout().includes(`Open ${url}/`)) return;
      clearTimeout(limit);
      proc.child.stdout!.off('data', check);
      resolve('ready');
    };
    proc.child.stdout!.on('data', check);
    void proc.exited.then(() => {
      clearTimeout(limit);
      resolve('exited');
    });
    check();
  });
  if (ready === 'exited')
    throw new Error(`the demo exited (${exitCode}) before it was ready:\n${proc.stdout()}\n${proc.stderr()}`);
  if (ready === 'late') {
    await kill();
    throw new Error(`the demo was not ready in time:\n${proc.stdout()}\n${proc.stderr()}`);
  }
  const redisPort = /redis-server on [^:]+:(\d+)/.exec(proc.stdout())?.[1];

  return {
    ...proc,
    url,
    ports: { gateway, idp, api, redis: redisPort === undefined ? undefined : Number(redisPort) },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exitCode === undefined) proc.child.kill(signal);
      return proc.exited;
    },
    kill,
  };
}
