/** What the bench reads from Redis: command counts, memory, and the keys a workload leaves behind. */
import type { Redis } from 'ioredis';

/** Calls per command from `INFO commandstats`, without `info` itself (the bench's own readings). */
export async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const info = await client.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = m[1]!;
    if (name === 'info') continue;
    calls.set(name, Number(m[2]));
  }
  return calls;
}

/** after - before, per command, leaving out commands with no new calls. */
export function callsDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, count] of after) {
    const d = count - (before.get(name) ?? 0);
    if (d > 0) delta[name] = d;
  }
  return delta;
}

export function sumValues(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

export async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

export async function scanKeys(client: Redis, match: string): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    for (const k of batch) keys.add(k);
  } while (cursor !== '0');
  return keys;
}

/**
 * A key's shape: hashes and ids (segments of 16+ characters with a digit, an upper-case letter or `_`)
 * become `<id>`, other digit runs `<n>`. `bff:{Xy…}:login:Ab…` -> `bff:{<id>}:login:<id>`.
 */
export function keyPattern(key: string): string {
  return key
    .split(/([:{}])/)
    .map((part) => {
      if (part.length >= 16 && /[0-9A-Z_]/.test(part)) return '<id>';
      return part.replace(/\d+/g, '<n>');
    })
    .join('');
}

export interface KeyPatternReport {
  pattern: string;
  /** Redis type of the pattern's keys (the first one seen). */
  type: string;
  keys: number;
  keysPerSignIn: number;
  /** Sum of `MEMORY USAGE key SAMPLES 0` over the pattern's keys. */
  bytes: number;
  bytesPerSignIn: number;
  bytesPerKey: number;
  /** Median remaining TTL in seconds; -1 when the keys have none. */
  medianTtlSec: number;
}

/** Groups `keys` by pattern with their sizes and TTLs, per `perCount` (the number of sign-ins). */
export async function describeKeys(
  client: Redis,
  keys: Iterable<string>,
  perCount: number,
): Promise<KeyPatternReport[]> {
  const groups = new Map<string, { type: string; bytes: number; ttls: number[]; keys: number }>();
  for (const key of keys) {
    const [type, bytes, pttl] = await Promise.all([
      client.type(key),
      client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number | null>,
      client.pttl(key),
    ]);
    if (type === 'none' || bytes === null) continue; // expired meanwhile
    const pattern = keyPattern(key);
    const group = groups.get(pattern) ?? { type, bytes: 0, ttls: [], keys: 0 };
    group.keys += 1;
    group.bytes += bytes;
    group.ttls.push(pttl < 0 ? -1 : pttl / 1000);
    groups.set(pattern, group);
  }
  const per = Math.max(perCount, 1);
  return [...groups.entries()]
    .map(([pattern, g]) => ({
      pattern,
      type: g.type,
      keys: g.keys,
      keysPerSignIn: g.keys / per,
      bytes: g.bytes,
      bytesPerSignIn: g.bytes / per,
      bytesPerKey: g.bytes / g.keys,
      medianTtlSec: Math.round(median(g.ttls)),
    }))
    .sort((a, b) => b.bytes - a.bytes);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
