/**
 * One store contract (test/helpers/store-contract*.ts), three backends: a real redis-server, a real
 * 3-master Redis Cluster (every multi-key script must keep its keys in one slot), and the in-memory
 * keyspace of REDIS mode `memory`. The same operations, edge cases and TTLs hold on each.
 */
import { createMemoryStores, createRedisStores } from '../../src/session/store/stores.js';
import { MemoryKeyspace } from '../../src/session/store/memory-keyspace.js';
import { startRedis } from '../helpers/redis.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { describeStoreContract } from '../helpers/store-contract.js';

describeStoreContract('Redis standalone', async () => {
  const redis = await startRedis();
  return {
    stores: createRedisStores(redis.client),
    pttl: (key) => redis.client.pttl(key),
    seedLegacySet: async (key, members) => void (await redis.client.sadd(key, ...members)),
    stop: () => redis.stop(),
  };
});

describeStoreContract('Redis Cluster', async () => {
  const cluster = await startRedisCluster();
  return {
    stores: createRedisStores(cluster.client),
    pttl: (key) => cluster.client.pttl(key),
    seedLegacySet: async (key, members) => void (await cluster.client.sadd(key, ...members)),
    stop: () => cluster.stop(),
  };
});

describeStoreContract('in-memory', async () => {
  const keyspace = new MemoryKeyspace();
  return {
    stores: createMemoryStores(keyspace),
    pttl: async (key) => keyspace.pttl(key),
    seedLegacySet: undefined,
    stop: async () => {},
  };
});
