/** The shape of bench/results/*.json, and the medians and ratios computed from the rounds. */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knobs, LoadGenerator, VariantId } from './knobs.js';
import type { LoadResult } from './load.js';
import { clockTicksPerSecond } from './procs.js';
import type { KeyPatternReport } from './redis-stats.js';
import { median } from './redis-stats.js';
import type { SignInRun } from './signin.js';

export interface RoundResult extends LoadResult {
  round: number;
  /** CPU time of the variant's own process (the proxy, or the upstream for (a)) per request. */
  cpuUsPerRequest: number;
  redisCommandsPerRequest: number;
  /** Per command name, calls per request. */
  redisCommands: Record<string, number>;
}

export interface VariantResult {
  id: VariantId;
  label: string;
  rounds: RoundResult[];
  median: {
    rps: number;
    p50Ms: number;
    p99Ms: number;
    cpuUsPerRequest: number;
    redisCommandsPerRequest: number;
  };
  /** Median req/s divided by (b)'s and (c)'s; null when that variant did not run. */
  ratioToBare: number | null;
  ratioToHandBuilt: number | null;
}

export interface RssResult {
  requests: number;
  seconds: number;
  beforeMiB: number;
  afterMiB: number;
  changePercent: number;
  /** RSS after each load chunk (wrk runs in chunks of at most a minute; autocannon in one). */
  samplesMiB: number[];
  non2xx: number;
  errors: number;
}

export interface SessionStorageResult {
  signIns: number;
  usedMemoryDeltaBytes: number;
  /** `used_memory` delta / sign-ins. */
  bytesPerSignIn: number;
  /** Sum of MEMORY USAGE over every new key / sign-ins. */
  memoryUsageBytesPerSignIn: number;
  keysPerSignIn: number;
  patterns: KeyPatternReport[];
}

export interface SignInsResult {
  sequential: SignInRun;
  concurrent: SignInRun | null;
  failures: number;
  gatewayCpuUsPerSignIn: number;
}

export interface StormResult {
  requests: number;
  refreshGrants: number;
  refreshGrantErrors: number;
  /** Answers other than 200 plus socket errors. */
  errors: number;
  statuses: Record<string, number>;
  sentBeforeFirstAnswer: number;
  seconds: number;
  /** The session's next request after the storm. */
  nextRequestStatus: number;
}

export interface BenchResults {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  machine: { node: string; platform: string; cpus: number; cpuModel: string; clockTicksPerSecond: number };
  settings: {
    loadGenerator: LoadGenerator;
    connections: number;
    threads: number;
    durationSec: number;
    warmupSec: number;
    rounds: number;
    signIns: number;
    signInConcurrency: number;
    storm: number;
    rssRequests: number;
  };
  variants: VariantResult[];
  /** Redis commands per steady-state request through the gateway ((d)), over all its rounds. */
  redis: { gatewayCommandsPerRequest: number; gatewayCommands: Record<string, number> } | null;
  /** The gateway's metrics listener answered /metrics with this status after the rounds. */
  metricsStatus: number | null;
  rss: RssResult | null;
  sessionStorage: SessionStorageResult | null;
  signIns: SignInsResult | null;
  storm: StormResult | null;
}

export function summarizeVariants(
  labels: Record<VariantId, string>,
  rounds: Map<VariantId, RoundResult[]>,
): VariantResult[] {
  const med = (rs: RoundResult[], f: (r: RoundResult) => number): number => median(rs.map(f));
  const variants = [...rounds.entries()].map(([id, rs]) => ({
    id,
    label: labels[id],
    rounds: rs,
    median: {
      rps: med(rs, (r) => r.rps),
      p50Ms: med(rs, (r) => r.p50Ms),
      p99Ms: med(rs, (r) => r.p99Ms),
      cpuUsPerRequest: med(rs, (r) => r.cpuUsPerRequest),
      redisCommandsPerRequest: med(rs, (r) => r.redisCommandsPerRequest),
    },
    ratioToBare: null as number | null,
    ratioToHandBuilt: null as number | null,
  }));
  const rpsOf = (id: VariantId) => variants.find((v) => v.id === id)?.median.rps;
  const bare = rpsOf('bare');
  const handBuilt = rpsOf('hand-built');
  for (const v of variants) {
    v.ratioToBare = bare ? v.median.rps / bare : null;
    v.ratioToHandBuilt = handBuilt ? v.median.rps / handBuilt : null;
  }
  return variants;
}

/** Redis commands per request over all of (d)'s rounds together (total calls / total requests). */
export function gatewayRedis(rounds: RoundResult[] | undefined): BenchResults['redis'] {
  if (!rounds || rounds.length === 0) return null;
  const requests = rounds.reduce((s, r) => s + r.requests, 0);
  const calls: Record<string, number> = {};
  for (const r of rounds) {
    for (const [name, perRequest] of Object.entries(r.redisCommands)) {
      calls[name] = (calls[name] ?? 0) + perRequest * r.requests;
    }
  }
  const perRequest = Object.fromEntries(
    Object.entries(calls).map(([k, v]) => [k, v / Math.max(requests, 1)]),
  );
  return {
    gatewayCommandsPerRequest: Object.values(perRequest).reduce((a, b) => a + b, 0),
    gatewayCommands: perRequest,
  };
}

export function machineInfo(): BenchResults['machine'] {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    clockTicksPerSecond: clockTicksPerSecond(),
  };
}

export function settingsOf(knobs: Knobs, loadGenerator: LoadGenerator): BenchResults['settings'] {
  return {
    loadGenerator,
    connections: knobs.connections,
    threads: knobs.threads,
    durationSec: knobs.durationSec,
    warmupSec: knobs.warmupSec,
    rounds: knobs.rounds,
    signIns: knobs.signIns,
    signInConcurrency: knobs.signInConcurrency,
    storm: knobs.storm,
    rssRequests: knobs.rssRequests,
  };
}

/** Writes latest.json and a dated copy (results-<UTC time>.json) into `dir`; returns their paths. */
export async function writeResults(dir: string, results: BenchResults): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const files = [path.join(dir, 'latest.json'), path.join(dir, `results-${stamp}.json`)];
  for (const file of files) await writeFile(file, json);
  return files;
}
