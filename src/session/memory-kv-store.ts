import type { KvStore } from './kv-store.js';

interface Entry {
  value: Buffer;
  expiresAt: number;
}

/**
 * For development without Redis: one process, lost on restart. It keeps values as bytes and expires
 * them like Redis, so everything above it (the binary session values, compare-and-set on exact bytes,
 * TTLs) behaves the same with or without Redis.
 */
export class MemoryKvStore implements KvStore {
  private readonly values = new Map<string, Entry>();
  private readonly pendingIndexes = new Map<string, { key: string; at: number }[]>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async ping(): Promise<void> {}

  async putPendingLogin(
    indexKey: string,
    key: string,
    value: string,
    ttlMs: number,
    max: number,
  ): Promise<void> {
    const now = Date.now();
    this.write(key, value, ttlMs);
    const index = (this.pendingIndexes.get(indexKey) ?? []).filter(
      (e) => e.key !== key && this.entry(e.key) !== undefined,
    );
    index.push({ key, at: now });
    while (index.length > max) this.values.delete(index.shift()!.key);
    this.pendingIndexes.set(indexKey, index);
  }

  async takePendingLogin(indexKey: string, key: string): Promise<string | null> {
    const value = this.read(key);
    this.values.delete(key);
    const index = this.pendingIndexes.get(indexKey)?.filter((e) => e.key !== key);
    // As in Redis, an index without members is gone.
    if (index && index.length > 0) this.pendingIndexes.set(indexKey, index);
    else this.pendingIndexes.delete(indexKey);
    return value ?? null;
  }

  async hit(key: string, windowMs: number): Promise<number> {
    const count = Number(this.read(key) ?? '0') + 1;
    const expiresAt = this.entry(key)?.expiresAt ?? Date.now() + windowMs;
    this.values.set(key, { value: Buffer.from(String(count)), expiresAt });
    return count;
  }

  async get(key: string): Promise<string | null> {
    return this.read(key) ?? null;
  }

  async getBytes(key: string): Promise<Buffer | null> {
    const value = this.entry(key)?.value;
    return value === undefined ? null : Buffer.from(value);
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
    const current = this.entry(key)?.value;
    if (current === undefined || !current.equals(Buffer.from(expected))) return false;
    this.write(key, value, ttlMs);
    return true;
  }

  async del(...keys: string[]): Promise<void> {
    for (const key of keys) this.values.delete(key);
  }

  async getBytesAndDelete(key: string): Promise<Buffer | null> {
    const value = this.entry(key)?.value;
    this.values.delete(key);
    return value ?? null;
  }

  async exists(key: string): Promise<boolean> {
    return this.entry(key) !== undefined;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.entry(key) !== undefined) return false;
    this.write(key, value, ttlMs);
    return true;
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    if (this.read(key) === value) this.values.delete(key);
  }

  async extendIfEquals(key: string, value: string, ttlMs: number): Promise<boolean> {
    const entry = this.entry(key);
    if (entry === undefined || entry.value.toString('utf8') !== value) return false;
    entry.expiresAt = Date.now() + ttlMs;
    return true;
  }

  // Indexes are JSON [member, end (epoch s)] pairs in the same map, so they expire like everything else.
  async addToIndex(key: string, member: string, endsAtMs: number, ttlMs: number): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const members = this.index(key).set(member, Math.ceil(endsAtMs / 1000));
    for (const [m, endsAt] of members) if (endsAt <= now) members.delete(m);
    const expiresAt = Math.max(this.entry(key)?.expiresAt ?? 0, Date.now() + Math.ceil(ttlMs));
    this.writeIndex(key, members, expiresAt);
  }

  async removeFromIndex(key: string, member: string): Promise<void> {
    const entry = this.entry(key);
    if (!entry) return;
    const members = this.index(key);
    members.delete(member);
    this.writeIndex(key, members, entry.expiresAt);
  }

  async indexMembers(key: string): Promise<string[]> {
    return [...this.index(key).keys()];
  }

  async setMembers(): Promise<string[]> {
    // Nothing in memory outlives the process, so no set from an older gateway version can be here.
    return [];
  }

  private index(key: string): Map<string, number> {
    const value = this.read(key);
    return new Map(value === undefined ? [] : (JSON.parse(value) as [string, number][]));
  }

  /** As in Redis, a hash without fields is gone. */
  private writeIndex(key: string, members: Map<string, number>, expiresAt: number): void {
    if (members.size === 0) this.values.delete(key);
    else this.values.set(key, { value: Buffer.from(JSON.stringify([...members])), expiresAt });
  }

  private write(key: string, value: string | Buffer, ttlMs: number): void {
    // A copy: a caller that reuses its buffer must not change what is stored.
    this.values.set(key, { value: Buffer.from(value), expiresAt: Date.now() + ttlMs });
  }

  private entry(key: string): Entry | undefined {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.values.delete(key);
      return undefined;
    }
    return entry;
  }

  private read(key: string): string | undefined {
    return this.entry(key)?.value.toString('utf8');
  }

  private sweep(): void {
    for (const key of this.values.keys()) this.entry(key);
    for (const [indexKey, index] of this.pendingIndexes) {
      const live = index.filter((e) => this.values.has(e.key));
      if (live.length === 0) this.pendingIndexes.delete(indexKey);
      else this.pendingIndexes.set(indexKey, live);
    }
  }
}
