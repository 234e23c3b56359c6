import { SessionStoreUnavailableError } from '../errors.js';
import type { KvStore } from './kv-store.js';
import type { RedisClient } from './redis-client.js';

async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw new SessionStoreUnavailableError(undefined, { cause: err });
  }
}

// Every key a script touches shares the first key's hash tag, so each script runs on one Cluster slot.
const PUT_PENDING = `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then
  local evicted = redis.call('ZPOPMIN', KEYS[1], extra)
  for i = 1, #evicted, 2 do redis.call('DEL', evicted[i]) end
end
return 1`;

// ZREM of the last member deletes the index too: a completed login leaves no key behind.
const TAKE_PENDING = `
local v = redis.call('GET', KEYS[2])
if v then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], KEYS[2])
end
return v`;

// Lua compares strings byte for byte, so this is exact for binary values too.
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

// ARGV: member, its end (epoch s), now (epoch s), TTL (ms).
const ADD_TO_INDEX = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local now = tonumber(ARGV[3])
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if tonumber(entries[i + 1]) <= now then redis.call('HDEL', KEYS[1], entries[i]) end
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`;

export class RedisKvStore implements KvStore {
  constructor(private readonly redis: RedisClient) {}

  async ping(): Promise<void> {
    await guard(this.redis.ping());
  }

  async putPendingLogin(
    indexKey: string,
    key: string,
    value: string,
    ttlMs: number,
    max: number,
  ): Promise<void> {
    await guard(this.redis.eval(PUT_PENDING, 2, indexKey, key, value, ttlMs, Date.now(), max));
  }

  async takePendingLogin(indexKey: string, key: string): Promise<string | null> {
    const v = await guard(this.redis.eval(TAKE_PENDING, 2, indexKey, key));
    return typeof v === 'string' ? v : null;
  }

  async hit(key: string, windowMs: number): Promise<number> {
    const results = await guard(this.redis.multi().set(key, 0, 'PX', windowMs, 'NX').incr(key).exec());
    const incr = results?.[1];
    if (!incr || incr[0]) throw new SessionStoreUnavailableError();
    return Number(incr[1]);
  }

  get(key: string): Promise<string | null> {
    return guard(this.redis.get(key));
  }

  getBytes(key: string): Promise<Buffer | null> {
    return guard(this.redis.getBuffer(key));
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

  async addToIndex(key: string, member: string, endsAtMs: number, ttlMs: number): Promise<void> {
    const endsAt = Math.ceil(endsAtMs / 1000);
    const now = Math.floor(Date.now() / 1000);
    await guard(this.redis.eval(ADD_TO_INDEX, 1, key, member, endsAt, now, Math.ceil(ttlMs)));
  }

  async removeFromIndex(key: string, member: string): Promise<void> {
    await guard(this.redis.hdel(key, member));
  }

  indexMembers(key: string): Promise<string[]> {
    return guard(this.redis.hkeys(key));
  }

  setMembers(key: string): Promise<string[]> {
    return guard(this.redis.smembers(key));
  }
}
