/** The measurements: interleaved load rounds, RSS over many requests, sign-ins, the refresh storm. */
import type { Redis } from 'ioredis';
import { signIn, type Stack } from '../test/helpers/gateway.js';
import type { Knobs, LoadGenerator, VariantId } from './knobs.js';
import { runLoad, type LoadResult } from './load.js';
import { cpuMicrosSince, cpuTicks, rssBytes } from './procs.js';
import { callsDelta, commandCalls, describeKeys, scanKeys, sumValues, usedMemory } from './redis-stats.js';
import type { RoundResult, RssResult, SessionStorageResult, SignInsResult, StormResult } from './results.js';
import type { Target } from './setup.js';
import { signInMany } from './signin.js';
import { fireStorm } from './storm.js';

const MiB = 1024 * 1024;

function loadSpec(target: Target, knobs: Knobs, durationSec: number, amount?: number) {
  return {
    url: target.url,
    headers: target.headers,
    connections: knobs.connections,
    threads: knobs.threads,
    durationSec,
    ...(amount !== undefined ? { amount } : {}),
  };
}

/** One measured window: load on `target`, its process's CPU and the Redis commands it caused. */
async function measuredWindow(
  target: Target,
  generator: LoadGenerator,
  knobs: Knobs,
  redis: Redis,
  round: number,
): Promise<RoundResult> {
  const callsBefore = await commandCalls(redis);
  const ticks = cpuTicks(target.pid);
  const load = await runLoad(generator, loadSpec(target, knobs, knobs.durationSec));
  const cpuUs = cpuMicrosSince(target.pid, ticks);
  const redisCalls = callsDelta(callsBefore, await commandCalls(redis));
  const per = Math.max(load.requests, 1);
  const perRequest = Object.fromEntries(Object.entries(redisCalls).map(([k, v]) => [k, v / per]));
  return {
    round,
    ...load,
    cpuUsPerRequest: cpuUs / per,
    redisCommandsPerRequest: sumValues(redisCalls) / per,
    redisCommands: perRequest,
  };
}

function describeWindow(target: Target, r: LoadResult): string {
  const bad = r.non2xx + r.errors > 0 ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : '';
  return `${target.label}: ${Math.round(r.rps)} req/s, p99 ${r.p99Ms.toFixed(2)} ms${bad}`;
}

export async function warmUp(targets: Target[], generator: LoadGenerator, knobs: Knobs): Promise<void> {
  if (knobs.warmupSec === 0) return;
  for (const target of targets) {
    const r = await runLoad(generator, loadSpec(target, knobs, knobs.warmupSec));
    console.log(`  warm-up ${describeWindow(target, r)}`);
  }
}

/** Rounds of a, b, c, d (interleaved, so drift in the machine's state hits every variant alike). */
export async function runRounds(
  targets: Target[],
  generator: LoadGenerator,
  knobs: Knobs,
  redis: Redis,
): Promise<Map<VariantId, RoundResult[]>> {
  const results = new Map<VariantId, RoundResult[]>(targets.map((t) => [t.id, []]));
  for (let round = 1; round <= knobs.rounds; round++) {
    for (const target of targets) {
      const r = await measuredWindow(target, generator, knobs, redis, round);
      results.get(target.id)!.push(r);
      console.log(
        `  round ${round}/${knobs.rounds} ${describeWindow(target, r)}, ${r.cpuUsPerRequest.toFixed(0)} µs CPU/req`,
      );
    }
  }
  return results;
}

/** Gateway RSS before and after `knobs.rssRequests` more requests. */
export async function measureRss(
  target: Target,
  generator: LoadGenerator,
  knobs: Knobs,
  rpsEstimate: number,
): Promise<RssResult> {
  const beforeBytes = rssBytes(target.pid);
  let done = 0;
  let seconds = 0;
  let non2xx = 0;
  let errors = 0;
  let estimate = Math.max(rpsEstimate, 100);
  const samplesMiB: number[] = [];
  while (done < knobs.rssRequests) {
    const remaining = knobs.rssRequests - done;
    // wrk runs for a duration: chunks of at most a minute, sized by the rate seen so far.
    const chunkSec = Math.min(60, Math.max(1, Math.ceil(remaining / estimate)));
    const amount = generator === 'autocannon' ? remaining : undefined;
    const r = await runLoad(generator, loadSpec(target, knobs, chunkSec, amount));
    if (r.requests === 0) throw new Error('the RSS load completed no request');
    done += r.requests;
    seconds += r.seconds;
    non2xx += r.non2xx;
    errors += r.errors;
    estimate = Math.max(r.rps, 1);
    samplesMiB.push(rssBytes(target.pid) / MiB);
    console.log(
      `  RSS load: ${done}/${knobs.rssRequests} requests, RSS ${samplesMiB.at(-1)!.toFixed(1)} MiB`,
    );
  }
  const afterBytes = rssBytes(target.pid);
  return {
    requests: done,
    seconds,
    beforeMiB: beforeBytes / MiB,
    afterMiB: afterBytes / MiB,
    changePercent: (100 * (afterBytes - beforeBytes)) / beforeBytes,
    samplesMiB,
    non2xx,
    errors,
  };
}

/**
 * `knobs.signIns` distinct sign-ins through the gateway: half one at a time, half
 * `signInConcurrency` at a time; Redis memory and every key they leave under the gateway's prefix.
 */
export async function measureSignIns(
  redis: Redis,
  keyPrefix: string,
  gatewayUrl: string,
  gatewayPid: number,
  knobs: Knobs,
): Promise<{ storage: SessionStorageResult; signIns: SignInsResult }> {
  const count = knobs.signIns;
  const match = `${keyPrefix}*`;
  const keysBefore = await scanKeys(redis, match);
  const memoryBefore = await usedMemory(redis);
  const ticks = cpuTicks(gatewayPid);
  const sequentialCount = Math.ceil(count / 2);
  // Index 0 is the load session's address; the sign-ins use 1…count.
  const sequential = await signInMany(gatewayUrl, sequentialCount, 1, 1);
  const concurrent = await signInMany(
    gatewayUrl,
    count - sequentialCount,
    knobs.signInConcurrency,
    1 + sequentialCount,
  );
  const gatewayCpuUs = cpuMicrosSince(gatewayPid, ticks);
  const memoryAfter = await usedMemory(redis);
  const keysAfter = await scanKeys(redis, match);
  const fresh = [...keysAfter].filter((k) => !keysBefore.has(k));
  const patterns = await describeKeys(redis, fresh, count);
  const memoryUsageBytes = patterns.reduce((sum, p) => sum + p.bytes, 0);
  return {
    storage: {
      signIns: count,
      usedMemoryDeltaBytes: memoryAfter - memoryBefore,
      bytesPerSignIn: (memoryAfter - memoryBefore) / count,
      memoryUsageBytesPerSignIn: memoryUsageBytes / count,
      keysPerSignIn: fresh.length / count,
      patterns,
    },
    signIns: {
      sequential,
      concurrent: concurrent.count > 0 ? concurrent : null,
      failures: sequential.failures + concurrent.failures,
      gatewayCpuUsPerSignIn: gatewayCpuUs / count,
    },
  };
}

/**
 * One session (signed in through the stack's in-process gateway, which shares the Redis and the
 * secrets), its access token marked expired, then `count` concurrent requests to the gateway process.
 */
export async function measureStorm(stack: Stack, gatewayUrl: string, count: number): Promise<StormResult> {
  const session = await signIn(stack, 'bench-storm');
  await session.expireAccessToken();
  const grantsBefore = stack.idp.counts.grants.refresh_token ?? 0;
  const grantErrorsBefore = stack.idp.counts.grantErrors.refresh_token ?? 0;
  const headers = { cookie: session.cookie, 'x-csrf': '1' };
  const r = await fireStorm(gatewayUrl, '/api/storm', headers, count);
  const afterwards = await fetch(`${gatewayUrl}/api/after-storm`, { headers });
  await afterwards.arrayBuffer();
  return {
    requests: count,
    refreshGrants: (stack.idp.counts.grants.refresh_token ?? 0) - grantsBefore,
    refreshGrantErrors: (stack.idp.counts.grantErrors.refresh_token ?? 0) - grantErrorsBefore,
    errors: r.errors,
    statuses: r.statuses,
    sentBeforeFirstAnswer: r.sentBeforeFirstAnswer,
    seconds: r.seconds,
    nextRequestStatus: afterwards.status,
  };
}
