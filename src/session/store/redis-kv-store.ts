import { SessionStoreUnavailableError } from '../../errors.js';
import type { KvStore } from './kv-store.js';
import type { RedisClient } from './redis-client.js';

/** Every Redis failure, for every Redis-backed store, becomes the one 503 of an unavailable store. */
export async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw new SessionStoreUnavailableError(undefined, { cause: err });
  }
}

// One key per script, so each runs on one Cluster slot. Lua compares strings byte for byte, so these
// are exact for binary values too.
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

const DELETE_IF_EQUALS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const EXTEND_IF_EQUALS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

export class RedisKvStore implements KvStore {
  constructor(private readonly redis: RedisClient) {}

  async ping(): Promise<void> {
    await guard(this.redis.ping());
  }

  get(key: string): Promise<string | null> {
    return guard(this.redis.get(key));
  }

  getBytes(key: string): Promise<Buffer | null> {
    return guard(this.redis.getBuffer(key));
  }

  getManyBytes(keys: readonly string[]): Promise<Array<Buffer | null>> {
    return guard(this.redis.mgetBuffer(...keys));
  }

  async set(key: string, value: string | Buffer, ttlMs: number): Promise<void> {
    await guard(this.redis.set(key, value, 'PX', ttlMs));
  }

  async compareAndSet(
    key: string,
    expected: string | Buffer,
    value: string | Buffer,
    ttlMs: number,
  ): Promise<boolean> {
    return (await guard(this.redis.eval(COMPARE_AND_SET, 1, key, expected, value, ttlMs))) === 1;
  }

  async del(...keys: string[]): Promise<void> {
    // One DEL per key: keys of different sessions may live on different Cluster slots.
    await Promise.all(keys.map((key) => guard(this.redis.del(key))));
  }

  getBytesAndDelete(key: string): Promise<Buffer | null> {
    return guard(this.redis.getdelBuffer(key));
  }

  async exists(key: string): Promise<boolean> {
    return (await guard(this.redis.exists(key))) === 1;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await guard(this.redis.set(key, value, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    await guard(this.redis.eval(DELETE_IF_EQUALS, 1, key, value));
  }

  async extendIfEquals(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await guard(this.redis.eval(EXTEND_IF_EQUALS, 1, key, value, Math.ceil(ttlMs)))) === 1;
  }
}
