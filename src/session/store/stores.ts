import { MemoryKeyspace } from './memory-keyspace.js';
import { MemoryKvStore } from './memory-kv-store.js';
import type { KvStore } from './kv-store.js';
import {
  MemoryPendingLoginStore,
  RedisPendingLoginStore,
  type PendingLoginStore,
} from './pending-login-store.js';
import { MemoryRateLimitStore, RedisRateLimitStore, type RateLimitStore } from './rate-limit-store.js';
import type { RedisClient } from './redis-client.js';
import { RedisKvStore } from './redis-kv-store.js';
import {
  MemorySessionIndexStore,
  RedisSessionIndexStore,
  type SessionIndexStore,
} from './backchannel-index-store.js';

/** The generic store and the domain stores, all on one keyspace (one Redis, or one process's memory). */
export interface Stores {
  kv: KvStore;
  pendingLogins: PendingLoginStore;
  rateLimits: RateLimitStore;
  sessionIndex: SessionIndexStore;
}

export function createRedisStores(redis: RedisClient): Stores {
  return {
    kv: new RedisKvStore(redis),
    pendingLogins: new RedisPendingLoginStore(redis),
    rateLimits: new RedisRateLimitStore(redis),
    sessionIndex: new RedisSessionIndexStore(redis),
  };
}

export function createMemoryStores(keyspace = new MemoryKeyspace()): Stores {
  return {
    kv: new MemoryKvStore(keyspace),
    pendingLogins: new MemoryPendingLoginStore(keyspace),
    rateLimits: new MemoryRateLimitStore(keyspace),
    sessionIndex: new MemorySessionIndexStore(keyspace),
  };
}

/** The stores for the configured Redis client, or in memory when there is none (REDIS mode `memory`). */
export function createStores(redis: RedisClient | undefined): Stores {
  return redis ? createRedisStores(redis) : createMemoryStores();
}
