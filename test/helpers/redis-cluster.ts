/**
 * A real, throw-away 3-master Redis Cluster for one test file.
 *
 *   let cluster: RedisClusterServer;
 *   beforeAll(async () => { cluster = await startRedisCluster(); });
 *   afterAll(async () => { await cluster?.stop(); });   // ALWAYS: kills every node, removes the dir
 *
 * Each node is `redis-server --cluster-enabled yes` on a free loopback port (with its own free
 * cluster-bus port), without persistence, in one temporary directory; `redis-cli --cluster create`
 * joins them and the helper waits until every node reports `cluster_state:ok`. As in redis.ts, a
 * process 'exit' hook SIGKILLs whatever is left if the test run dies before afterAll.
 *
 * The process plumbing (`spawnRedisProcess`, `waitUntil`) is shared with redis-sentinel.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './ports.js';

// ---------------------------------------------------------------------------------------------
// Shared plumbing
// ---------------------------------------------------------------------------------------------

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

/** One redis-server (or sentinel) process started by spawnRedisProcess. */
export interface RedisProcess {
  port: number;
  pid: number;
  /** What the process printed so far (its log goes to our pipe). */
  output(): string;
  /** True until the process exited. */
  alive(): boolean;
  /** SIGKILL and await the exit. Idempotent; works on a SIGSTOPped process too. */
  kill(): Promise<void>;
  /** SIGSTOP: the port stays open, nothing is answered. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

const START_TIMEOUT_MS = 10_000;

async function spawnOnce(port: number, args: string[], ready: RegExp): Promise<RedisProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  let out = '';
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
  ready: RegExp = /Ready to accept connections/,
): Promise<RedisProcess> {
  installExitHook();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return await spawnOnce(port, await args(port), ready);
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error && /already in use|Could not create server TCP|bind/i.test(err.message)))
        break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error('redis-server failed to start');
}

/** The flags every test node shares: loopback only, no persistence, log to our pipe. */
export function baseServerArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
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

/** A standalone ioredis client for assertions: fails fast, never prints unhandled error events. */
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

/**
 * Polls `check` (short awaits, never a fixed sleep) until it returns a value other than
 * undefined/false, and returns that value; throws naming `what` after `limitMs`, also when a
 * single check hangs.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  limitMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('check still pending')), Math.max(deadline - Date.now(), 1));
    });
    try {
      const value = await Promise.race([check(), hung]);
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${limitMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs a command to completion; rejects with its output on a non-zero exit. */
export function run(command: string, args: string[], limitMs = 20_000): Promise<string> {
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

// ---------------------------------------------------------------------------------------------
// The cluster
// ---------------------------------------------------------------------------------------------

export interface RedisClusterNode extends RedisProcess {
  /** `127.0.0.1:PORT` */
  address: string;
  /** The node's cluster-bus port. */
  busPort: number;
  /** A plain (non-cluster) client to this node only: CLUSTER INFO, SCAN, DBSIZE. */
  client: Redis;
}

export interface ClusterKeyDump {
  key: string;
  /** Port of the master that holds it. */
  port: number;
  slot: number;
  /** PTTL in ms; -1 = no TTL (every gateway key must have one). */
  ttlMs: number;
}

export interface RedisClusterServer {
  /** The three masters, in the order given to `redis-cli --cluster create`. */
  nodes: RedisClusterNode[];
  /** `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`: the value for REDIS_CLUSTER_NODES. */
  nodesEnv: string;
  /** An ioredis Cluster client for assertions (maxRetriesPerRequest 1, commandTimeout 5 s). */
  client: Cluster;
  /** The temporary directory of every node (removed by stop()). */
  dir: string;
  /** CLUSTER KEYSLOT of a key, as the server computes it. */
  keyslot(key: string): Promise<number>;
  /** Every key on every master, sorted by key, with the node holding it, its slot and PTTL. */
  dumpAll(): Promise<ClusterKeyDump[]>;
  /** Output of every node, for diagnostics. */
  output(): string;
  /** SIGKILL every node, remove the directory, close the clients. Idempotent. */
  stop(): Promise<void>;
}

async function startClusterNode(dir: string, index: number): Promise<RedisClusterNode> {
  let busPort = 0;
  const proc = await spawnRedisProcess(async (port) => {
    busPort = await freePort();
    return [
      ...baseServerArgs(port, dir),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${index}-${port}.conf`),
      '--cluster-port',
      String(busPort),
      '--cluster-node-timeout',
      '5000',
    ];
  });
  return { ...proc, address: `127.0.0.1:${proc.port}`, busPort, client: assertionClient(proc.port) };
}

export async function startRedisCluster(masters = 3): Promise<RedisClusterServer> {
  const dir = await makeTempDir('bff-test-redis-cluster-');
  const nodes: RedisClusterNode[] = [];
  let client: Cluster | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    client?.disconnect();
    for (const node of nodes) node.client.disconnect();
    await Promise.all(nodes.map((node) => node.kill()));
    await removeTempDir(dir);
  };

  try {
    // Sequentially: parallel freePort() calls could hand out the same port twice.
    for (let i = 0; i < masters; i++) nodes.push(await startClusterNode(dir, i));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => n.address),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    // One deadline for all nodes, so a cluster that never forms fails well inside a hook timeout.
    await waitUntil(
      'cluster_state:ok on every node',
      async () => {
        for (const node of nodes) {
          const info = String(await node.client.cluster('INFO'));
          const ok =
            /cluster_state:ok/.test(info) &&
            new RegExp(`cluster_known_nodes:${masters}\\b`).test(info) &&
            /cluster_slots_assigned:16384\b/.test(info);
          if (!ok) return false;
        }
        return true;
      },
      10_000,
    );
    client = new Cluster(
      nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      { redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 5_000 } },
    );
    client.on('error', () => {});
    const assertions = client;
    await waitUntil(
      'the assertion Cluster client to be ready',
      async () => {
        return (await assertions.ping()) === 'PONG'; // queued until the client has the slot map
      },
      10_000,
    );
  } catch (err) {
    const logs = nodes.map((n) => `--- ${n.address}\n${n.output().slice(-3000)}`).join('\n');
    await stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`the Redis Cluster did not start: ${reason}\n${logs}`, { cause: err });
  }
  const cluster = client;

  return {
    nodes,
    nodesEnv: nodes.map((n) => n.address).join(','),
    client: cluster,
    dir,
    stop,
    output: () => nodes.map((n) => `--- ${n.address}\n${n.output()}`).join('\n'),
    keyslot: async (key) => Number(await nodes[0]!.client.cluster('KEYSLOT', key)),
    dumpAll: async () => {
      const result: ClusterKeyDump[] = [];
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, batch] = await node.client.scan(cursor, 'COUNT', 1000);
          cursor = next;
          for (const key of batch) {
            const ttlMs = await node.client.pttl(key);
            if (ttlMs === -2) continue; // expired between SCAN and PTTL
            const slot = Number(await node.client.cluster('KEYSLOT', key));
            result.push({ key, port: node.port, slot, ttlMs });
          }
        } while (cursor !== '0');
      }
      return result.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
  };
}
