/**
 * A real nginx for deployment-shape tests: a temporary prefix directory holding the config, the pid
 * file, both logs and every temp path, so nothing under /etc/nginx, /var/log/nginx or /var/lib/nginx
 * is read or written and it runs as root or not. `nginx -g 'daemon off;'` stays our child, in its own
 * process group (master and workers), on a free loopback port.
 *
 *   const nginx = await startNginx((port) => `server { ${h2cListen(port)} location / { … } }`);
 *   …
 *   await nginx.stop();
 *
 * Ready means the pid file is written: nginx writes it after it has bound its listening sockets.
 * If a test run dies before its afterAll, a process 'exit' hook SIGKILLs the whole group.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { makeTempDir, removeTempDir } from './redis-process.js';

/** Debian installs it under sbin, which a non-root PATH may lack. */
export const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

export interface Nginx {
  port: number;
  dir: string;
  errorLog(): string;
  accessLog(): string;
  /** Fast shutdown (SIGTERM), awaited; then SIGKILL to whatever is left of the group. Idempotent. */
  stop(): Promise<void>;
}

/** `nginx -v`, e.g. [1, 22, 1]. */
export function nginxVersion(): number[] {
  const out = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  const m = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(`${out.stderr}${out.stdout}`);
  if (!m) throw new Error(`cannot run ${NGINX} -v: ${out.error?.message ?? out.stderr}`);
  return m.slice(1).map(Number);
}

/** The listen directive for HTTP/2 cleartext (prior knowledge): `http2 on;` exists from 1.25.1. */
export function h2cListen(port: number): string {
  const [major = 0, minor = 0, patch = 0] = nginxVersion();
  const newSyntax = major > 1 || minor > 25 || (minor === 25 && patch >= 1);
  return newSyntax ? `listen 127.0.0.1:${port}; http2 on;` : `listen 127.0.0.1:${port} http2;`;
}

const live = new Set<number>();
let hookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** `http` receives the port to listen on and returns what goes inside `http { }` (server, upstream). */
export async function startNginx(http: (port: number) => string, attempts = 3): Promise<Nginx> {
  if (!hookInstalled) {
    hookInstalled = true;
    process.once('exit', () => live.forEach(killGroup));
  }
  const dir = await makeTempDir('bff-nginx-');
  // Workers run as `nobody` when the master is root: they must be able to reach the temp paths.
  chmodSync(dir, 0o755);
  const file = (name: string) => join(dir, name);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(
      file('nginx.conf'),
      `worker_processes 1;
pid ${file('nginx.pid')};
error_log ${file('error.log')} info;
events { worker_connections 256; }
http {
  access_log ${file('access.log')};
  client_body_temp_path ${file('client_body')};
  proxy_temp_path ${file('proxy')};
  fastcgi_temp_path ${file('fastcgi')};
  uwsgi_temp_path ${file('uwsgi')};
  scgi_temp_path ${file('scgi')};
${http(port)}
}
`,
    );
    try {
      return await spawnReady(dir, port);
    } catch (err) {
      if (attempt >= attempts || !/Address already in use/.test(String(err))) {
        await removeTempDir(dir);
        throw err;
      }
    }
  }
}

async function spawnReady(dir: string, port: number): Promise<Nginx> {
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot spawn ${NGINX}`);
  live.add(pid);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  const alive = () => child.exitCode === null && child.signalCode === null;
  const halt = async (): Promise<void> => {
    if (alive()) {
      const timer = setTimeout(() => killGroup(pid), 5_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    }
    killGroup(pid); // a worker that outlived its master
    live.delete(pid);
  };

  await new Promise<void>((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(() => done(new Error('nginx did not write its pid file within 10 s')), 10_000);
    const check = () => {
      if (read('nginx.pid').trim() === String(pid)) done();
    };
    const onExit = () => done(new Error(`nginx exited during start: ${stderr}\n${read('error.log')}`));
    function done(err?: Error): void {
      clearTimeout(timer);
      watcher.close();
      child.off('exit', onExit);
      if (err) halt().then(() => reject(err), reject);
      else resolve();
    }
    watcher.on('change', check);
    child.once('exit', onExit);
    check();
  });
  const stop = async (): Promise<void> => {
    await halt();
    await removeTempDir(dir);
  };
  return { port, dir, errorLog: () => read('error.log'), accessLog: () => read('access.log'), stop };
}
