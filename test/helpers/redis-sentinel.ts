/**
 * A real, throw-away Redis Sentinel setup for one test file: one master, one replica (`--replicaof`)
 * and three sentinels (quorum 2) monitoring it as `mymaster`, all on free loopback ports.
 *
 *   let sentinel: RedisSentinelSetup;
 *   beforeAll(async () => { sentinel = await startRedisSentinel(); });
 *   afterAll(async () => { await sentinel?.stop(); });   // ALWAYS: kills every process, removes the dir
 *
 * Sentinels decide fast: `down-after-milliseconds` 1000 and `failover-timeout` 3000, so a killed
 * master is replaced in about 2-3 s. Sentinels rewrite their config, so each gets its own file in
 * the temporary directory. Start-up returns only once every sentinel knows the master, the replica
 * and the two other sentinels (a failover needs that) and the replica is in sync.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import {
  assertionClient,
  baseServerArgs,
  makeTempDir,
  removeTempDir,
  spawnRedisProcess,
  waitUntil,
  type RedisProcess,
} from './redis-process.js';

export const SENTINEL_MASTER_NAME = 'mymaster';

export interface SentinelNode extends RedisProcess {
  /** `127.0.0.1:PORT` */
  address: string;
  /** A plain client to this process only. */
  client: Redis;
}

export interface RedisSentinelSetup {
  /** The monitored name (`mymaster`): the value for REDIS_SENTINEL_NAME. */
  name: string;
  /** The data nodes: [initial master, initial replica]. Roles change on failover; see masterPort(). */
  servers: SentinelNode[];
  sentinels: SentinelNode[];
  /** `127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3`: the value for REDIS_SENTINELS. */
  sentinelsEnv: string;
  /** The master's port as the first sentinel reports it (`SENTINEL get-master-addr-by-name`). */
  masterPort(): Promise<number>;
  /** The data node that is the master now (per the sentinels). */
  master(): Promise<SentinelNode>;
  /** Resolves once the master has at least one replica acknowledging every write so far (`WAIT 1`). */
  waitForReplication(limitMs?: number): Promise<void>;
  /**
   * Resolves once the current master has a replica in sync that every sentinel sees as healthy.
   * Slow after a failover: the sentinels turn a returning old master into a replica only some
   * 10-20 s after it answers again (fixed periods inside Sentinel).
   */
  waitForReplica(limitMs?: number): Promise<void>;
  /** SIGKILL the current master (a crash: connections are closed at once). Returns its port. */
  killMaster(): Promise<number>;
  /** SIGSTOP the current master (a hang: the port stays open, nothing answers). Returns its port. */
  stopMaster(): Promise<number>;
  /**
   * Polls every sentinel until all of them name a master other than `previousPort` and that node
   * answers ROLE as master; returns the new master's port.
   */
  waitForNewMaster(previousPort: number, limitMs?: number): Promise<number>;
  /** Output of every process, for diagnostics. */
  output(): string;
  /** SIGKILL everything (stopped ones too), remove the directory, close the clients. Idempotent. */
  stop(): Promise<void>;
}

const SENTINEL_READY = /\+monitor master/;

function withClient(proc: RedisProcess): SentinelNode {
  return { ...proc, address: `127.0.0.1:${proc.port}`, client: assertionClient(proc.port) };
}

/** A flat [k1, v1, k2, v2, ...] reply as an object. */
function fields(reply: unknown): Record<string, string> {
  const list = Array.isArray(reply) ? (reply as unknown[]) : [];
  const result: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) result[String(list[i])] = String(list[i + 1]);
  return result;
}

async function masterAddress(sentinel: SentinelNode, name: string): Promise<number | undefined> {
  const reply = (await sentinel.client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as
    [string, string] | null;
  return reply ? Number(reply[1]) : undefined;
}

export async function startRedisSentinel(): Promise<RedisSentinelSetup> {
  const name = SENTINEL_MASTER_NAME;
  const dir = await makeTempDir('bff-test-redis-sentinel-');
  const servers: SentinelNode[] = [];
  const sentinels: SentinelNode[] = [];
  let stopped = false;
  const all = (): SentinelNode[] => [...servers, ...sentinels];
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const node of all()) node.client.disconnect();
    await Promise.all(all().map((node) => node.kill()));
    await removeTempDir(dir);
  };

  // No 5 s diskless-sync delay: the replica is in sync right away (and again after a failover).
  const dataArgs = (port: number): string[] => [
    ...baseServerArgs(port, dir),
    '--repl-diskless-sync-delay',
    '0',
    '--dbfilename',
    `dump-${port}.rdb`,
  ];

  /**
   * Every sentinel names `master`, knows the two other sentinels and one healthy replica, and that
   * replica's link to the master is up.
   */
  const waitForTopology = async (master: SentinelNode, limitMs = 15_000): Promise<void> => {
    const replicaPort = await waitUntil(
      `a replica of ${master.address} in sync`,
      async () => {
        const info = await master.client.info('replication');
        return /^role:master/m.test(info) && /^slave\d+:.*port=(\d+),state=online/m.exec(info)?.[1];
      },
      limitMs,
    );
    const replica = servers.find((s) => s.port === Number(replicaPort));
    if (!replica) throw new Error(`unknown replica on port ${replicaPort}`);
    await waitUntil(
      `the replica ${replica.address} to see its master`,
      async () => /master_link_status:up/.test(await replica.client.info('replication')),
      limitMs,
    );
    for (const sentinel of sentinels) {
      await waitUntil(
        `${sentinel.address} to see the master, a healthy replica and the other sentinels`,
        async () => {
          const m = fields(await sentinel.client.call('SENTINEL', 'MASTER', name));
          if (m.port !== String(master.port) || m.flags !== 'master' || m['num-other-sentinels'] !== '2')
            return false;
          const replicas = (await sentinel.client.call('SENTINEL', 'REPLICAS', name)) as unknown[];
          return replicas
            .map(fields)
            .some((r) => r.port === replicaPort && r.flags === 'slave' && r['master-link-status'] === 'ok');
        },
        limitMs,
      );
    }
  };

  try {
    const master = withClient(await spawnRedisProcess((port) => dataArgs(port)));
    servers.push(master);
    servers.push(
      withClient(
        await spawnRedisProcess((port) => [
          ...dataArgs(port),
          '--replicaof',
          '127.0.0.1',
          String(master.port),
        ]),
      ),
    );
    for (let i = 0; i < 3; i++) {
      const proc = await spawnRedisProcess(async (port) => {
        const file = join(dir, `sentinel-${port}.conf`);
        await writeFile(
          file,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            'daemonize no',
            'logfile ""',
            `dir ${dir}`,
            `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
            `sentinel down-after-milliseconds ${name} 1000`,
            `sentinel failover-timeout ${name} 3000`,
            `sentinel parallel-syncs ${name} 1`,
            '',
          ].join('\n'),
        );
        return [file, '--sentinel'];
      }, SENTINEL_READY);
      sentinels.push(withClient(proc));
    }

    await waitForTopology(servers[0]!);
  } catch (err) {
    const logs = all()
      .map((n) => `--- ${n.address}\n${n.output().slice(-3000)}`)
      .join('\n');
    await stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`the Redis Sentinel setup did not start: ${reason}\n${logs}`, { cause: err });
  }

  const masterPort = async (): Promise<number> => {
    const port = await masterAddress(sentinels[0]!, name);
    if (port === undefined) throw new Error(`no master named ${name}`);
    return port;
  };
  const master = async (): Promise<SentinelNode> => {
    const port = await masterPort();
    const node = servers.find((s) => s.port === port);
    if (!node) throw new Error(`the sentinels name an unknown master on port ${port}`);
    return node;
  };

  return {
    name,
    servers,
    sentinels,
    sentinelsEnv: sentinels.map((s) => s.address).join(','),
    masterPort,
    master,
    stop,
    output: () =>
      all()
        .map((n) => `--- ${n.address}\n${n.output()}`)
        .join('\n'),
    async waitForReplication(limitMs = 5_000) {
      const node = await master();
      // WAIT blocks until one replica acknowledged every earlier write of *this* connection; write a
      // marker first so the acknowledgement covers everything the master had before it.
      await node.client.set(`test:replication-marker`, String(Date.now()), 'PX', 60_000);
      await waitUntil(
        'a replica to acknowledge the writes',
        async () => Number(await node.client.call('WAIT', '1', '1000')) >= 1,
        limitMs,
      );
    },
    async waitForReplica(limitMs = 15_000) {
      await waitForTopology(await master(), limitMs);
    },
    async killMaster() {
      const node = await master();
      await node.kill();
      return node.port;
    },
    async stopMaster() {
      const node = await master();
      node.pause();
      return node.port;
    },
    async waitForNewMaster(previousPort, limitMs = 20_000) {
      return waitUntil(
        'the sentinels to promote a new master',
        async () => {
          const ports = await Promise.all(sentinels.map((s) => masterAddress(s, name)));
          const port = ports[0];
          if (port === undefined || port === previousPort || ports.some((p) => p !== port)) return false;
          const node = servers.find((s) => s.port === port);
          const role = node ? ((await node.client.call('ROLE')) as unknown[]) : [];
          return role[0] === 'master' ? port : false;
        },
        limitMs,
        100,
      );
    },
  };
}
