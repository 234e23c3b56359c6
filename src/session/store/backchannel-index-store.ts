import type { MemoryKeyspace } from './memory-keyspace.js';
import type { RedisClient } from './redis-client.js';
import { guard } from './redis-kv-store.js';

/**
 * The store side of the back-channel logout indexes (session-index.ts): a hash per IdP session or user,
 * member (a session hash) -> the epoch second its session ends. Each operation touches one key.
 */
export interface SessionIndexStore {
  /**
   * Adds `member` to an index, drops the members that have ended, and extends the index's TTL to at
   * least `ttlMs` (never shortens it), in one step.
   */
  addToIndex(key: string, member: string, endsAtMs: number, ttlMs: number): Promise<void>;
  /** Removes one member; the last one out removes the index. */
  removeFromIndex(key: string, member: string): Promise<void>;
  indexMembers(key: string): Promise<string[]>;
  /** Members of a Redis set: the back-channel logout indexes written before they became hashes. */
  setMembers(key: string): Promise<string[]>;
}

// ARGV: member, its end (epoch s), now (epoch s), TTL (ms).
const ADD = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local now = tonumber(ARGV[3])
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if tonumber(entries[i + 1]) <= now then redis.call('HDEL', KEYS[1], entries[i]) end
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`;

export class RedisSessionIndexStore implements SessionIndexStore {
  constructor(private readonly redis: RedisClient) {}

  async addToIndex(key: string, member: string, endsAtMs: number, ttlMs: number): Promise<void> {
    const endsAt = Math.ceil(endsAtMs / 1000);
    const now = Math.floor(Date.now() / 1000);
    await guard(this.redis.eval(ADD, 1, key, member, endsAt, now, Math.ceil(ttlMs)));
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

/** The same steps on the in-memory keyspace (one process: nothing interleaves). */
export class MemorySessionIndexStore implements SessionIndexStore {
  constructor(private readonly keyspace: MemoryKeyspace) {}

  async addToIndex(key: string, member: string, endsAtMs: number, ttlMs: number): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const fields = new Map(this.keyspace.read(key, 'hash')?.fields);
    fields.set(member, String(Math.ceil(endsAtMs / 1000)));
    for (const [m, endsAt] of fields) if (Number(endsAt) <= now) fields.delete(m);
    this.keyspace.update(key, { type: 'hash', fields });
    if (this.keyspace.pttl(key) < Math.ceil(ttlMs)) this.keyspace.expire(key, Math.ceil(ttlMs));
  }

  async removeFromIndex(key: string, member: string): Promise<void> {
    const fields = new Map(this.keyspace.read(key, 'hash')?.fields);
    if (fields.delete(member)) this.keyspace.update(key, { type: 'hash', fields });
  }

  async indexMembers(key: string): Promise<string[]> {
    return [...(this.keyspace.read(key, 'hash')?.fields.keys() ?? [])];
  }

  async setMembers(): Promise<string[]> {
    // Nothing in memory outlives the process, so no set from an older gateway version can be here.
    return [];
  }
}
