/**
 * A real, throw-away `redis-server` for one test file.
 *
 *   let redis: RedisServer;
 *   beforeAll(async () => { redis = await startRedis(); });
 *   afterAll(async () => { await redis?.stop(); });   // ALWAYS: stop() kills it and removes its dir
 *
 * Never touches the machine's own Redis (6379): every server gets a free port, its own temporary
 * `--dir`, no persistence (AOF only with `appendOnly`). If a test run dies before afterAll, the
 * exit hook of redis-process.ts (which holds the process plumbing) still SIGKILLs every server
 * this process started and removes their directories.
 */
import type { Redis } from 'ioredis';
import {
  assertionClient,
  baseServerArgs,
  makeTempDir,
  removeTempDir,
  spawnRedisOnPort,
  spawnRedisProcess,
  type RedisProcess,
} from './redis-process.js';

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
  const dir = await makeTempDir('bff-test-redis-');
  const args = (port: number): string[] => [
    ...baseServerArgs(port, dir, options.appendOnly),
    '--appendfsync',
    'always',
    '--protected-mode',
    'yes',
    '--databases',
    '16',
  ];
  let proc: RedisProcess;
  try {
    proc = await spawnRedisProcess(args);
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
  const { port, pid } = proc;
  const client = assertionClient(port);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    client.disconnect();
    await proc.kill(); // works on a SIGSTOPped process too; nothing to persist
    await removeTempDir(dir);
  };

  try {
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
    output: () => proc.output(),
    stop,
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    kill: () => proc.kill(),
    restart: async () => {
      await proc.kill();
      proc = await spawnRedisOnPort(port, args(port));
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
