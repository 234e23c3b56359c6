/**
 * Profiling mode: the gateway under `node --cpu-prof --cpu-prof-dir=<out>/profile`, signed in, warmed
 * up, one load round; then a graceful stop (the profile is written at exit) and the self time of the
 * load window grouped by package or file, per request.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Knobs } from './knobs.js';
import { pickLoadGenerator, runLoad } from './load.js';
import { cpuMicrosSince, cpuTicks, shownPath } from './procs.js';
import { profileTable, summarizeProfile } from './profile.js';
import { API_PATH, gatewayCookie, startBase, startGateway, type Cleanup } from './setup.js';

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

export async function runProfile(knobs: Knobs, cleanup: Cleanup): Promise<void> {
  const generator = pickLoadGenerator(knobs.loadGenerator);
  const dir = path.join(knobs.outDir, 'profile');
  await mkdir(dir, { recursive: true });
  for (const f of await readdir(dir)) if (f.endsWith('.cpuprofile')) await rm(path.join(dir, f));

  const { stack } = await startBase(cleanup);
  const gateway = await startGateway(stack, cleanup, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const spec = {
    url: `${gateway.baseUrl}${API_PATH}`,
    headers: { cookie: await gatewayCookie(gateway.baseUrl), 'x-csrf': '1' },
    connections: knobs.connections,
    threads: knobs.threads,
  };
  if (knobs.warmupSec > 0) await runLoad(generator, { ...spec, durationSec: knobs.warmupSec });

  console.log(`bench: profiling the gateway for ${knobs.durationSec} s of ${generator} load`);
  const ticks = cpuTicks(gateway.child.pid);
  const fromUs = nowUs();
  const load = await runLoad(generator, { ...spec, durationSec: knobs.durationSec });
  const toUs = nowUs();
  const cpuUs = cpuMicrosSince(gateway.child.pid, ticks);

  await gateway.child.stop();
  // One file per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile): the main thread is 0
  // (tsx's module hooks run on a thread of their own).
  const profiles = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const mainThread = profiles.find((f) => /\.0\.\d+\.cpuprofile$/.test(f)) ?? profiles[0];
  if (mainThread === undefined) {
    throw new Error(`the gateway wrote no .cpuprofile into ${dir}:\n${gateway.child.stderr()}`);
  }
  const summary = await summarizeProfile(path.join(dir, mainThread), load.requests, { fromUs, toUs });

  console.log(
    `\n${Math.round(load.rps)} req/s under the profiler (p99 ${load.p99Ms.toFixed(2)} ms); ` +
      `gateway CPU ${(cpuUs / Math.max(load.requests, 1)).toFixed(0)} µs per request by /proc\n`,
  );
  console.log(profileTable(summary));
  const out = path.join(dir, 'summary.json');
  await writeFile(
    out,
    `${JSON.stringify({ ...summary, rps: load.rps, p99Ms: load.p99Ms, cpuUsPerRequestByProc: cpuUs / Math.max(load.requests, 1) }, null, 2)}\n`,
  );
  console.log(`\nbench: wrote ${shownPath(out)} and ${shownPath(path.join(dir, mainThread))}`);
}
