/**
 * A real, throw-away `redis-server` for one test file.
 *
 *   let redis: RedisServer;
 *   beforeAll(async () => { redis = await startRedis(); });
 *   afterAll(async () => { await redis?.stop(); });   // ALWAYS: stop() kills it and removes its dir
 *
 * Never touches the machine's own Redis (6379): every server gets a free port, its own temporary
 * `--dir`, no persistence. If a test run dies before afterAll, a process 'exit' hook still
 * SIGKILLs every server this process started and removes their directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

export interface RedisKeyDump {
  key: string;
  /** Redis TYPE: string, hash, list, set, zset, stream, … */
  type: string;
  /** PTTL in ms; -1 = no TTL (every gateway key must have one). */
  ttlMs: number;
  /** GET for strings; JSON for the others (HGETALL object, LRANGE array, sorted SMEMBERS, ZRANGE WITHSCORES pairs, XRANGE). */
  value: string;
}

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:PORT` */
  url: string;
  pid: number;
  /** The server's temporary working directory (removed by stop()). */
  dir: string;
  /** An ioredis client for assertions (maxRetriesPerRequest 1, commandTimeout 5 s). Closed by stop(). */
  client: Redis;
  /** Every key of db 0, sorted by key, with its TTL and its value rendered as a string. */
  dumpAll(): Promise<RedisKeyDump[]>;
  /** FLUSHALL. */
  flush(): Promise<void>;
  /** SIGKILL the server, await its exit, remove its dir, close `client`. Idempotent; safe when paused. */
  stop(): Promise<void>;
  /** SIGSTOP: the port stays open and accepts connections, but nothing is answered (a hung store). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL, awaiting the exit: the port refuses connections until restart(). */
  kill(): Promise<void>;
  /** (Kills if needed and) starts the server again on the same port and directory. */
  restart(): Promise<void>;
  /** What redis-server printed (its log goes to our pipe, never to the console). */
  output(): string;
}

const live = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const entry of live) {
      try {
        entry.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
      try {
        rmSync(entry.dir, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  });
}

const READY = /Ready to accept connections/;
const START_TIMEOUT_MS = 10_000;

/** Spawns one redis-server and resolves once it logged that it accepts connections. */
async function spawnRedis(
  port: number,
  dir: string,
  appendOnly = false,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'always',
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
      '--protected-mode',
      'yes',
      '--databases',
      '16',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const output = (): string => out;
  const entry = { child, dir };
  live.add(entry);
  child.once('exit', () => live.delete(entry));

  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      if (READY.test(out)) done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      done(new Error(`redis-server exited during start (code ${code}, signal ${signal}):\n${out}`));
    };
    const onError = (err: Error): void => done(err);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(new Error(`redis-server did not become ready within ${START_TIMEOUT_MS} ms:\n${out}`));
    }, START_TIMEOUT_MS);
    function done(err?: Error): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolve();
    }
    // Keep collecting output after start (output() is for diagnostics).
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  return { child, output };
}

async function renderValue(client: Redis, key: string, type: string): Promise<string> {
  switch (type) {
    case 'string':
      return (await client.get(key)) ?? '';
    case 'hash': {
      const h = await client.hgetall(key);
      return JSON.stringify(Object.fromEntries(Object.entries(h).sort(([a], [b]) => (a < b ? -1 : 1))));
    }
    case 'list':
      return JSON.stringify(await client.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify((await client.smembers(key)).sort());
    case 'zset':
      return JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await client.xrange(key, '-', '+'));
    default:
      return '';
  }
}

export interface StartRedisOptions {
  /** AOF with fsync on every write, so kill() + restart() keeps every key. Default false. */
  appendOnly?: boolean;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), 'bff-test-redis-'));
  let started: { child: ChildProcess; output: () => string } | undefined;
  let port = 0;
  let lastError: unknown;
  // freePort() can race with another process taking the port: retry on "Address already in use".
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    try {
      started = await spawnRedis(port, dir, options.appendOnly);
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error && /already in use/i.test(err.message))) break;
    }
  }
  if (!started) {
    await rm(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error('redis-server failed to start');
  }
  let { child, output } = started;
  const pid = child.pid ?? -1;

  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 5_000,
    retryStrategy: (times: number) => Math.min(times * 50, 500),
  });
  // Without a listener ioredis prints "[ioredis] Unhandled error event" while the server is paused/stopped.
  client.on('error', () => {});

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    client.disconnect();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL'); // works on a SIGSTOPped process too; nothing to persist
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`unexpected PING answer ${String(pong)}`);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid,
    dir,
    client,
    output: () => output(),
    stop,
    pause: () => {
      child.kill('SIGSTOP');
    },
    resume: () => {
      child.kill('SIGCONT');
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    restart: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      ({ child, output } = await spawnRedis(port, dir, options.appendOnly));
    },
    flush: async () => {
      await client.flushall();
    },
    dumpAll: async () => {
      const keys = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const k of batch) keys.add(k);
      } while (cursor !== '0');
      const result: RedisKeyDump[] = [];
      for (const key of [...keys].sort()) {
        const type = await client.type(key);
        if (type === 'none') continue; // expired between SCAN and TYPE
        const ttlMs = await client.pttl(key);
        result.push({ key, type, ttlMs, value: await renderValue(client, key, type) });
      }
      return result;
    },
  };
}
