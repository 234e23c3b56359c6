import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/types.js';

export type RedisClient = Redis | Cluster;

/** Fail fast: a dead Redis must turn into a 503 within about a second, never a hanging request. */
const COMMON: RedisOptions = {
  connectTimeout: 2_000,
  commandTimeout: 1_500,
  maxRetriesPerRequest: 1,
  // No offline queue: while disconnected, commands fail at once instead of waiting for a reconnect.
  enableOfflineQueue: false,
  // Reconnect forever, but never wait more than 2 s between attempts.
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000),
};

/** Builds the ioredis client for the configured topology; undefined for the in-memory store. */
export function createRedisClient(config: RedisConfig): RedisClient | undefined {
  switch (config.mode) {
    case 'memory':
      return undefined;
    case 'standalone':
      return new Redis(config.url, COMMON);
    case 'cluster':
      return new Cluster(config.nodes, {
        enableOfflineQueue: false,
        clusterRetryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000),
        redisOptions: COMMON,
      });
    case 'sentinel':
      return new Redis({
        ...COMMON,
        sentinels: config.sentinels,
        name: config.name,
        role: 'master',
        // Listen for +switch-master on the sentinels and reconnect at once. Without it, a master that
        // hangs (instead of closing its connections) keeps this client talking to it after the
        // sentinels promoted a replica: every command times out, 503 until the process dies.
        failoverDetector: true,
      });
  }
}
