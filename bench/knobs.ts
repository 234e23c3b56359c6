/** Every knob of the benchmark, read once from the environment (see bench/README.md). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, '..');

export const VARIANT_IDS = [
  'upstream',
  'bare',
  'hand-built',
  'gateway',
  'gateway-audience',
  'gateway-dpop',
] as const;
export type VariantId = (typeof VARIANT_IDS)[number];
/**
 * What runs without BENCH_VARIANTS: every variant, the audience-route and DPoP rows included (each
 * costs another round per variant; BENCH_VARIANTS picks fewer).
 */
export const DEFAULT_VARIANTS: readonly VariantId[] = [
  'upstream',
  'bare',
  'hand-built',
  'gateway',
  'gateway-audience',
  'gateway-dpop',
];

export type LoadGenerator = 'wrk' | 'autocannon';

export interface Knobs {
  /** Seconds of load per variant per round. */
  durationSec: number;
  /** Seconds of warm-up load per variant, before the first round. */
  warmupSec: number;
  connections: number;
  /** wrk threads (capped at `connections`). */
  threads: number;
  rounds: number;
  /** `auto` picks wrk when it is on the PATH, else autocannon. */
  loadGenerator: LoadGenerator | 'auto';
  variants: VariantId[];
  /** Distinct sign-ins through the full flow for the Redis bytes per session and sign-ins per second. */
  signIns: number;
  signInConcurrency: number;
  /** Concurrent requests of the refresh storm. */
  storm: number;
  /** Requests through the gateway between the two RSS readings. */
  rssRequests: number;
  outDir: string;
  /** One profiled load round of the gateway only (node --cpu-prof), no other measurement. */
  profile: boolean;
}

function int(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

function loadGenerator(): Knobs['loadGenerator'] {
  const raw = process.env.BENCH_LOADGEN ?? 'auto';
  if (raw === '' || raw === 'auto') return 'auto';
  if (raw === 'wrk' || raw === 'autocannon') return raw;
  throw new Error(`BENCH_LOADGEN must be auto, wrk or autocannon (got ${JSON.stringify(raw)})`);
}

function variants(): VariantId[] {
  const raw = process.env.BENCH_VARIANTS;
  if (raw === undefined || raw === '') return [...DEFAULT_VARIANTS];
  const picked = raw.split(',').map((s) => s.trim());
  for (const id of picked) {
    if (!(VARIANT_IDS as readonly string[]).includes(id)) {
      throw new Error(`BENCH_VARIANTS: unknown variant ${JSON.stringify(id)} (${VARIANT_IDS.join(', ')})`);
    }
  }
  // Always in the canonical order, so the interleaving is a, b, c, d.
  return VARIANT_IDS.filter((id) => picked.includes(id));
}

export function readKnobs(argv: readonly string[] = process.argv.slice(2)): Knobs {
  const profile = argv.includes('--profile') || ['1', 'true'].includes(process.env.BENCH_PROFILE ?? '');
  const connections = int('BENCH_CONNECTIONS', 32, 1);
  const outDir = process.env.BENCH_OUT_DIR;
  return {
    durationSec: int('BENCH_DURATION', 10, 1),
    warmupSec: int('BENCH_WARMUP', 5, 0),
    connections,
    threads: Math.min(int('BENCH_THREADS', 2, 1), connections),
    rounds: int('BENCH_ROUNDS', 3, 1),
    loadGenerator: loadGenerator(),
    variants: variants(),
    signIns: int('BENCH_SIGNINS', 300, 0),
    signInConcurrency: int('BENCH_SIGNIN_CONCURRENCY', 4, 1),
    storm: int('BENCH_STORM', 1000, 0),
    rssRequests: int('BENCH_RSS_REQUESTS', 1_000_000, 0),
    outDir: outDir ? path.resolve(outDir) : path.join(BENCH_DIR, 'results'),
    profile,
  };
}
