/**
 * The bench's rows for a route with its own audience (e) and for DPoP (f), at a tiny scale: they run,
 * every request answers 2xx, and the invariant that does not depend on speed holds (one Redis command
 * per steady-state request, on the audience route too). Speeds are printed by `npm run bench`, never asserted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/results.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM'); // the bench stops everything it started
    await once(child, 'exit');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run bench: audience and DPoP rows', () => {
  it('measures (e) and (f) beside (d), every request 2xx, one Redis command per request', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bff-bench-rows-'));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BENCH_')));
    child = spawn(process.execPath, ['--import', 'tsx', 'bench/main.ts'], {
      cwd: ROOT,
      env: {
        ...env,
        BENCH_VARIANTS: 'gateway,gateway-audience,gateway-dpop',
        BENCH_ROUNDS: '1',
        BENCH_DURATION: '1',
        BENCH_WARMUP: '1',
        BENCH_CONNECTIONS: '2',
        BENCH_SIGNINS: '0',
        BENCH_STORM: '0',
        BENCH_RSS_REQUESTS: '0',
        BENCH_OUT_DIR: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, output).toBe(0);
    const results = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8')) as BenchResults;

    expect(results.variants.map((v) => v.id)).toEqual(['gateway', 'gateway-audience', 'gateway-dpop']);
    for (const v of results.variants) {
      const [round] = v.rounds;
      expect(round!.requests, v.id).toBeGreaterThan(0);
      expect([round!.non2xx, round!.errors], `${v.id}: non-2xx and errors`).toEqual([0, 0]);
      expect(v.median.redisCommandsPerRequest, v.id).toBeGreaterThan(0.9);
      expect(v.median.redisCommandsPerRequest, v.id).toBeLessThan(1.1);
    }
    expect(output).toContain('(e) gateway, route with its own audience');
    expect(output).toContain('(f) gateway, OIDC_DPOP=true');
    expect(output).toMatch(/Redis commands per steady-state request on the audience route \(e\): 1\.0/);
    expect(output).toMatch(/DPoP \(f\) vs \(d\): -?\d+ µs more CPU per request/);
    expect(output).not.toMatch(/bff-session=/);
  }, 90_000);
});
