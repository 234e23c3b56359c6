import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../../config/types.js';
import { describeError, type Logger } from '../../observability/logger.js';

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

/** Resolves once the client is ready, or after `limitMs` (start-up goes on; requests then answer 503). */
export function whenReady(redis: RedisClient, limitMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, limitMs);
    redis.once('ready', done);
  });
}

/** ioredis reports connection trouble as events; log state changes once, not every retry. */
export function watchRedis(redis: RedisClient, logger: Logger): void {
  let healthy = true;
  redis.on('error', (err: unknown) => {
    if (healthy)
      logger.error(
        { err: describeError(err) },
        'Redis connection lost; requests needing the store get 503 until it is back',
      );
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info('Redis connection restored');
    healthy = true;
  });
}
