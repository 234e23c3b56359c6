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
 * The process plumbing (`spawnRedisProcess`, …) lives in redis-process.ts, shared with redis.ts and
 * redis-sentinel.ts, and `waitUntil` in wait.ts; they are re-exported here for existing importers.
 */
import { join } from 'node:path';
import { Cluster, type Redis } from 'ioredis';
import { freePort } from './ports.js';
import {
  assertionClient,
  baseServerArgs,
  makeTempDir,
  removeTempDir,
  run,
  spawnRedisProcess,
  waitUntil,
  type RedisProcess,
} from './redis-process.js';

// The plumbing used to live here; these names stay importable from this module.
export { assertionClient, baseServerArgs, makeTempDir, removeTempDir, run, spawnRedisProcess, waitUntil };
export type { RedisProcess };

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
