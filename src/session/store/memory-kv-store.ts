import type { KvStore } from './kv-store.js';
import { MemoryKeyspace } from './memory-keyspace.js';

/**
 * The generic store without Redis (development, one process). It keeps values as bytes and expires
 * them like Redis, so everything above it (the binary session values, compare-and-set on exact bytes,
 * TTLs) behaves the same with or without Redis.
 */
export class MemoryKvStore implements KvStore {
  constructor(private readonly keyspace = new MemoryKeyspace()) {}

  async ping(): Promise<void> {}

  async get(key: string): Promise<string | null> {
    return this.bytes(key)?.toString('utf8') ?? null;
  }

  async getBytes(key: string): Promise<Buffer | null> {
    const value = this.bytes(key);
    // A copy: a caller that changes the buffer it got must not change what is stored.
    return value === undefined ? null : Buffer.from(value);
  }

  async getManyBytes(keys: readonly string[]): Promise<Array<Buffer | null>> {
    return Promise.all(keys.map((key) => this.getBytes(key)));
  }

  async set(key: string, value: string | Buffer, ttlMs: number): Promise<void> {
    this.write(key, value, ttlMs);
  }

  async compareAndSet(
    key: string,
    expected: string | Buffer,
    value: string | Buffer,
    ttlMs: number,
  ): Promise<boolean> {
    const current = this.bytes(key);
    if (current === undefined || !current.equals(Buffer.from(expected))) return false;
    this.write(key, value, ttlMs);
    return true;
  }

  async del(...keys: string[]): Promise<void> {
    for (const key of keys) this.keyspace.delete(key);
  }

  async getBytesAndDelete(key: string): Promise<Buffer | null> {
    const value = this.bytes(key);
    this.keyspace.delete(key);
    return value ?? null;
  }

  async exists(key: string): Promise<boolean> {
    return this.keyspace.exists(key);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.keyspace.exists(key)) return false;
    this.write(key, value, ttlMs);
    return true;
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    if (this.bytes(key)?.equals(Buffer.from(value))) this.keyspace.delete(key);
  }

  async extendIfEquals(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (!this.bytes(key)?.equals(Buffer.from(value))) return false;
    return this.keyspace.expire(key, Math.ceil(ttlMs));
  }

  private bytes(key: string): Buffer | undefined {
    return this.keyspace.read(key, 'string')?.bytes;
  }

  private write(key: string, value: string | Buffer, ttlMs: number): void {
    // A copy: a caller that reuses its buffer must not change what is stored.
    this.keyspace.write(key, { type: 'string', bytes: Buffer.from(value) }, ttlMs);
  }
}
