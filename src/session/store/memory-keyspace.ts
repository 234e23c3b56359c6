import { SessionStoreUnavailableError } from '../../errors.js';

/** The value types the in-memory stores use, each standing for the Redis type of the same name. */
export type MemoryValue =
  | { type: 'string'; bytes: Buffer }
  | { type: 'hash'; fields: Map<string, string> }
  | { type: 'zset'; scores: Map<string, number> };

type Typed<T extends MemoryValue['type']> = Extract<MemoryValue, { type: T }>;

interface Entry {
  value: MemoryValue;
  /** Epoch ms; Infinity: no TTL (as a Redis key created by INCR or HSET). */
  expiresAt: number;
}

/**
 * One process's stand-in for a Redis database, for development without Redis (lost on restart). The
 * in-memory generic and domain stores share one, so a key written by one of them is seen by the others
 * (exists, del, TTL) as it is in Redis. Keys expire as in Redis, and the commands mirror Redis's rules:
 * writing a whole value sets its TTL, changing part of it (INCR, HSET, ZADD) keeps the TTL, an empty
 * hash or sorted set is gone, and reading a key as the wrong type fails like a store error (WRONGTYPE).
 */
export class MemoryKeyspace {
  private readonly entries = new Map<string, Entry>();

  constructor() {
    const sweeper = setInterval(() => this.sweep(), 60_000);
    sweeper.unref();
  }

  /** The value under `key` if it holds `type`; undefined when missing; throws on another type. */
  read<T extends MemoryValue['type']>(key: string, type: T): Typed<T> | undefined {
    const value = this.live(key)?.value;
    if (value === undefined) return undefined;
    if (value.type !== type) {
      const cause = new Error(`WRONGTYPE: ${key} holds a ${value.type}, not a ${type}`);
      throw new SessionStoreUnavailableError(undefined, { cause });
    }
    return value as Typed<T>;
  }

  /** Writes a whole value with a new TTL (SET ... PX). */
  write(key: string, value: MemoryValue, ttlMs: number): void {
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  /** Writes a changed value under the key's current TTL, or none for a new key; empty collections delete it. */
  update(key: string, value: MemoryValue): void {
    const size = value.type === 'hash' ? value.fields.size : value.type === 'zset' ? value.scores.size : 1;
    if (size === 0) {
      this.entries.delete(key);
      return;
    }
    this.entries.set(key, { value, expiresAt: this.live(key)?.expiresAt ?? Infinity });
  }

  exists(key: string): boolean {
    return this.live(key) !== undefined;
  }

  delete(key: string): boolean {
    return this.live(key) !== undefined && this.entries.delete(key);
  }

  /** PEXPIRE: false (and nothing changes) when the key is missing. */
  expire(key: string, ttlMs: number): boolean {
    const entry = this.live(key);
    if (entry === undefined) return false;
    entry.expiresAt = Date.now() + ttlMs;
    return true;
  }

  /** PTTL: ms left, -1 for a key without TTL, -2 for a missing key. */
  pttl(key: string): number {
    const entry = this.live(key);
    if (entry === undefined) return -2;
    return entry.expiresAt === Infinity ? -1 : entry.expiresAt - Date.now();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Drops expired keys nobody reads again, so memory does not grow with abandoned keys. */
  private sweep(): void {
    for (const key of this.entries.keys()) this.live(key);
  }
}
