/**
 * The adversarial corpus (test/integration/adversarial-*.test.ts): fast-check generators for hostile
 * inputs, the contract's rules as small oracles, and the checks every answer must pass. The pieces live
 * in one file per input kind (arbitraries-paths/-requests/-headers.ts, corpus-oracles.ts,
 * corpus-checks.ts, corpus-raw-client.ts), re-exported here so the corpus imports one module.
 *
 *   fc.assert(fc.asyncProperty(hostileTarget, async (target) => { ... }), { numRuns: 2000 });
 *
 * A failure prints fast-check's seed and path; `FC_SEED=<seed> npx vitest run test/integration/adversarial`
 * replays the whole file with that seed (see `configureCorpus`).
 */
import fc from 'fast-check';

/** Seeds every property of the file from FC_SEED when set (a failure's replay). */
export function configureCorpus(): void {
  const seed = process.env.FC_SEED;
  fc.configureGlobal({
    ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}),
    // A property that has not finished its runs in a minute fails (the case count is part of the contract).
    interruptAfterTimeLimit: 60_000,
    markInterruptAsFailure: true,
  });
}

export * from './arbitraries-paths.js';
export * from './arbitraries-requests.js';
export * from './arbitraries-headers.js';
export * from './corpus-oracles.js';
export * from './corpus-checks.js';
export * from './corpus-raw-client.js';
