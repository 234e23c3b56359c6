/**
 * `npm run bench` at a tiny scale: it starts, measures every section and writes JSON and a chart.
 * Benchmarks are not tests: nothing here asserts a speed, only that each figure is there and
 * plausible, and the invariants that do not depend on speed (one Redis command per gateway request,
 * GET + EXPIRE for the hand-built proxy, one IdP grant and no error in the refresh storm).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/results.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const TINY: Record<string, string> = {
  BENCH_ROUNDS: '1',
  BENCH_DURATION: '1',
  BENCH_WARMUP: '1',
  BENCH_CONNECTIONS: '2',
  BENCH_SIGNINS: '5',
  BENCH_SIGNIN_CONCURRENCY: '2',
  BENCH_STORM: '50',
  BENCH_RSS_REQUESTS: '3000',
};

const running = new Set<ChildProcess>();
const dirs: string[] = [];
afterEach(async () => {
  for (const child of running) {
    child.kill('SIGTERM'); // the bench stops everything it started
    await once(child, 'exit');
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function withoutBenchKnobs(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('BENCH_')));
}

async function runBench(
  env: Record<string, string>,
): Promise<{ output: string; dir: string; results: BenchResults }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bff-bench-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/main.ts'], {
    cwd: ROOT,
    // The developer's own BENCH_* settings must not change what is tested.
    env: { ...withoutBenchKnobs(process.env), ...env, BENCH_OUT_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  running.delete(child);
  if (code !== 0) throw new Error(`the bench exited with ${code}:\n${output}`);
  const results = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8')) as BenchResults;
  return { output, dir, results };
}

function expectPlausibleVariants(results: BenchResults, ids: string[]): void {
  expect(results.variants.map((v) => v.id)).toEqual(ids);
  for (const v of results.variants) {
    expect(v.rounds).toHaveLength(1);
    for (const r of v.rounds) {
      expect(r.requests, v.id).toBeGreaterThan(0);
      expect(r.non2xx, `${v.id} answers other than 2xx`).toBe(0);
      expect(r.errors, `${v.id} socket errors`).toBe(0);
    }
    expect(v.median.rps, v.id).toBeGreaterThan(0);
    expect(v.median.p50Ms, v.id).toBeGreaterThanOrEqual(0);
    expect(v.median.p99Ms, v.id).toBeGreaterThanOrEqual(v.median.p50Ms);
    expect(v.median.cpuUsPerRequest, v.id).toBeGreaterThan(0);
  }
  expect(results.redis!.gatewayCommandsPerRequest).toBeGreaterThan(0.9);
  expect(results.redis!.gatewayCommandsPerRequest).toBeLessThan(1.1);
  expect(results.metricsStatus).toBe(200);
}

describe('npm run bench, tiny', () => {
  it('measures all six variants and every section, and writes JSON and the chart', async () => {
    const committed = path.join(ROOT, 'bench/results/latest.json');
    const committedBefore = existsSync(committed) ? readFileSync(committed, 'utf8') : null;
    const { output, dir, results } = await runBench(TINY);
    // Everything went into BENCH_OUT_DIR, a temporary directory.
    expect(existsSync(committed) ? readFileSync(committed, 'utf8') : null).toBe(committedBefore);

    expectPlausibleVariants(results, [
      'upstream',
      'bare',
      'hand-built',
      'gateway',
      'gateway-audience',
      'gateway-dpop',
    ]);
    for (const v of results.variants) {
      expect(v.ratioToBare, v.id).toBeGreaterThan(0);
      expect(v.ratioToHandBuilt, v.id).toBeGreaterThan(0);
    }
    expect(results.variants.find((v) => v.id === 'bare')!.ratioToBare).toBe(1);
    // express-session with connect-redis: GET to load the session, EXPIRE to touch it.
    const handBuilt = results.variants.find((v) => v.id === 'hand-built')!;
    expect(handBuilt.median.redisCommandsPerRequest).toBeGreaterThan(1.9);
    expect(handBuilt.median.redisCommandsPerRequest).toBeLessThan(2.1);
    expect(results.variants.find((v) => v.id === 'bare')!.median.redisCommandsPerRequest).toBe(0);

    const storage = results.sessionStorage!;
    expect(storage.signIns).toBe(5);
    expect(storage.bytesPerSignIn).toBeGreaterThan(0);
    expect(storage.memoryUsageBytesPerSignIn).toBeGreaterThan(0);
    expect(storage.keysPerSignIn).toBeGreaterThanOrEqual(1);
    expect(storage.patterns.some((p) => p.pattern.includes('session'))).toBe(true);

    const signIns = results.signIns!;
    expect(signIns.failures).toBe(0);
    expect(signIns.sequential.perSecond).toBeGreaterThan(0);
    expect(signIns.concurrent!.perSecond).toBeGreaterThan(0);
    expect(signIns.gatewayCpuUsPerSignIn).toBeGreaterThan(0);

    expect(results.storm).toMatchObject({
      requests: 50,
      refreshGrants: 1,
      refreshGrantErrors: 0,
      errors: 0,
      statuses: { '200': 50 },
      nextRequestStatus: 200,
    });

    const rss = results.rss!;
    expect(rss.requests).toBeGreaterThanOrEqual(3000);
    expect(rss.beforeMiB).toBeGreaterThan(0);
    expect(rss.afterMiB).toBeGreaterThan(0);
    expect(Number.isFinite(rss.changePercent)).toBe(true);
    expect(rss.non2xx + rss.errors).toBe(0);

    expect(readFileSync(path.join(dir, 'chart.svg'), 'utf8')).toMatch(/^<svg [\s\S]*<\/svg>\n$/);
    expect(readdirSync(dir).filter((f) => /^results-.*\.json$/.test(f))).toHaveLength(1);
    expect(output).toContain('| variant | req/s | p50 ms | p99 ms | CPU µs/req | × (b) | × (c) |');
    // No secret reaches the output: neither session cookie appears.
    expect(output).not.toMatch(/bff-session=|connect\.sid=/);
  }, 90_000);

  it('runs with autocannon when told to (wrk may not be installed)', async () => {
    const { results } = await runBench({
      ...TINY,
      BENCH_LOADGEN: 'autocannon',
      BENCH_VARIANTS: 'upstream,gateway',
      BENCH_WARMUP: '0',
      BENCH_SIGNINS: '0',
      BENCH_STORM: '0',
      BENCH_RSS_REQUESTS: '500',
    });
    expect(results.settings.loadGenerator).toBe('autocannon');
    expectPlausibleVariants(results, ['upstream', 'gateway']);
    expect(results.variants[0]!.ratioToBare).toBeNull();
    expect(results.rss!.requests).toBeGreaterThanOrEqual(500);
    expect(results.sessionStorage).toBeNull();
    expect(results.storm).toBeNull();
  }, 60_000);
});
