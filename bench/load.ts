/**
 * Keep-alive GET load from wrk (when installed, or forced) or autocannon, with one result shape.
 * wrk runs as its own process with two threads; autocannon runs in the bench process (which is idle
 * otherwise: every server under test is a process of its own).
 */
import autocannon from 'autocannon';
import type { LoadGenerator } from './knobs.js';
import { onPath, runCommand } from './procs.js';

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  connections: number;
  threads: number;
  /** Whole seconds (wrk's -d takes whole seconds); ignored by autocannon when `amount` is set. */
  durationSec: number;
  /** autocannon only: stop after this many requests. */
  amount?: number;
}

export interface LoadResult {
  /** Completed responses. */
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses outside 2xx (wrk: outside 2xx and 3xx). */
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
}

export function pickLoadGenerator(wanted: LoadGenerator | 'auto'): LoadGenerator {
  if (wanted === 'auto') return onPath('wrk') ? 'wrk' : 'autocannon';
  if (wanted === 'wrk' && !onPath('wrk')) throw new Error('BENCH_LOADGEN=wrk but wrk is not on the PATH');
  return wanted;
}

export function runLoad(generator: LoadGenerator, spec: LoadSpec): Promise<LoadResult> {
  return generator === 'wrk' ? runWrk(spec) : runAutocannon(spec);
}

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const args = [
    `-t${Math.min(spec.threads, spec.connections)}`,
    `-c${spec.connections}`,
    `-d${Math.max(1, Math.round(spec.durationSec))}s`,
    '--latency',
  ];
  for (const [name, value] of Object.entries(spec.headers)) args.push('-H', `${name}: ${value}`);
  args.push(spec.url);
  return parseWrk(await runCommand('wrk', args));
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

function toMs(value: string, unit: string): number {
  const factor = UNIT_MS[unit];
  if (factor === undefined) throw new Error(`unknown wrk time unit ${unit}`);
  return Number(value) * factor;
}

/** Parses `wrk --latency` output. */
export function parseWrk(out: string): LoadResult {
  const must = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(out);
    if (!m) throw new Error(`wrk output has no ${what}:\n${out}`);
    return m;
  };
  const total = must(/(\d+) requests in ([\d.]+)(us|ms|s|m|h)/, 'request count');
  const p50 = must(/^\s*50(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$/m, '50% latency line');
  const p99 = must(/^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$/m, '99% latency line');
  const rps = must(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec');
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests: Number(total[1]),
    seconds: toMs(total[2]!, total[3]!) / 1000,
    rps: Number(rps[1]),
    p50Ms: toMs(p50[1]!, p50[2]!),
    p99Ms: toMs(p99[1]!, p99[2]!),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors,
  };
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const result = await autocannon({
    url: spec.url,
    headers: spec.headers,
    connections: spec.connections,
    duration: Math.max(1, spec.durationSec),
    ...(spec.amount !== undefined ? { amount: spec.amount } : {}),
  });
  const requests = result.requests.total;
  return {
    requests,
    seconds: result.duration,
    rps: result.duration > 0 ? requests / result.duration : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
