/**
 * Self-test of the test helpers against the real things (redis-server, oidc-provider over HTTP),
 * without a gateway: the redis helper (an isolated redis-server, dumps with TTLs, pause/resume).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis.js';
describe('redis helper', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('runs an isolated redis-server and dumps keys with TTLs', async () => {
    expect(redis.port).not.toBe(6379);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    await redis.client.set('bff:sess:a', 'hello', 'PX', 60_000);
    await redis.client.hset('bff:h', { b: '2', a: '1' });
    await redis.client.expire('bff:h', 30);
    await redis.client.set('no-ttl', 'x');
    const dump = await redis.dumpAll();
    expect(dump.map((d) => d.key)).toEqual(['bff:h', 'bff:sess:a', 'no-ttl']);
    const [hash, str, noTtl] = dump;
    expect(str).toMatchObject({ type: 'string', value: 'hello' });
    expect(str?.ttlMs).toBeGreaterThan(50_000);
    expect(str?.ttlMs).toBeLessThanOrEqual(60_000);
    expect(hash).toMatchObject({ type: 'hash', value: '{"a":"1","b":"2"}' });
    expect(hash?.ttlMs).toBeGreaterThan(20_000);
    expect(noTtl?.ttlMs).toBe(-1);
    await redis.flush();
    expect(await redis.dumpAll()).toEqual([]);
  });

  it('pause() makes it hang, resume() brings it back', async () => {
    const probe = new Redis({
      host: '127.0.0.1',
      port: redis.port,
      commandTimeout: 300,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => {});
    try {
      expect(await probe.ping()).toBe('PONG');
      redis.pause();
      await expect(probe.ping()).rejects.toThrow(/timed out/i);
      redis.resume();
      expect(await redis.client.ping()).toBe('PONG');
    } finally {
      redis.resume();
      probe.disconnect();
    }
  });
});
