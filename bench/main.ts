/**
 * `npm run bench`: the /api data plane against its baselines, plus Redis, sign-in, refresh-storm and
 * memory figures. `npm run bench:profile` (or BENCH_PROFILE=1): one CPU-profiled load round of the
 * gateway. Knobs and how to read the output: bench/README.md. Figures are printed and written to
 * BENCH_OUT_DIR (default bench/results), never asserted here.
 */
import path from 'node:path';
import type { Stack } from '../test/helpers/gateway.js';
import { readKnobs, type Knobs, type VariantId } from './knobs.js';
import { pickLoadGenerator } from './load.js';
import { shownPath } from './procs.js';
import { measureRss, measureSignIns, measureStorm, runRounds, warmUp } from './phases.js';
import { runProfile } from './profile-run.js';
import { extrasReport, variantsTable } from './report.js';
import {
  gatewayRedis,
  machineInfo,
  settingsOf,
  summarizeVariants,
  writeResults,
  type BenchResults,
} from './results.js';
import { writeChart } from './chart.js';
import {
  API_PATH,
  AUDIENCE_PATH,
  BENCH_AUDIENCE,
  Cleanup,
  gatewayCookie,
  handBuiltCookie,
  LABELS,
  probeRoute,
  startBase,
  startBaseline,
  startGateway,
  UPSTREAM_PATH,
  type GatewayProcess,
  type Target,
} from './setup.js';

async function bench(knobs: Knobs, cleanup: Cleanup): Promise<void> {
  const started = new Date();
  const generator = pickLoadGenerator(knobs.loadGenerator);
  const want = (id: VariantId): boolean => knobs.variants.includes(id);
  console.log(
    `bench: load from ${generator}; starting redis-server, the IdP, the upstream and the variants…`,
  );

  const { stack, upstream, upstreamUrl } = await startBase(cleanup, want('gateway-audience'));
  const redis = stack.redis.client;
  const [bare, handBuilt, gateway, dpopGateway] = await Promise.all([
    want('bare') ? startBaseline('bare', upstreamUrl, stack.redis.url, cleanup) : undefined,
    want('hand-built') ? startBaseline('hand-built', upstreamUrl, stack.redis.url, cleanup) : undefined,
    want('gateway') || want('gateway-audience') ? startGateway(stack, cleanup) : undefined,
    // (f): the same configuration with every token DPoP-bound: a proof signed per proxied request.
    want('gateway-dpop') ? startGateway(stack, cleanup, [], { OIDC_DPOP: 'true' }) : undefined,
  ]);

  const targets: Target[] = [];
  if (want('upstream')) {
    targets.push({
      id: 'upstream',
      label: LABELS.upstream,
      url: `${upstreamUrl}${UPSTREAM_PATH}`,
      headers: {},
      pid: upstream.pid,
    });
  }
  if (bare)
    targets.push({
      id: 'bare',
      label: LABELS.bare,
      url: `${bare.baseUrl}${API_PATH}`,
      headers: {},
      pid: bare.child.pid,
    });
  if (handBuilt) {
    const cookie = await handBuiltCookie(handBuilt.baseUrl);
    targets.push({
      id: 'hand-built',
      label: LABELS['hand-built'],
      url: `${handBuilt.baseUrl}${API_PATH}`,
      headers: { cookie },
      pid: handBuilt.child.pid,
    });
  }
  let gatewayTarget: Target | undefined;
  if (gateway) {
    const cookie = await gatewayCookie(gateway.baseUrl);
    gatewayTarget = {
      id: 'gateway',
      label: LABELS.gateway,
      url: `${gateway.baseUrl}${API_PATH}`,
      headers: { cookie, 'x-csrf': '1' },
      pid: gateway.child.pid,
    };
    if (want('gateway')) targets.push(gatewayTarget);
    // (e): the same process and session, on the route whose token is its own audience's.
    if (want('gateway-audience')) {
      const probe = `${gateway.baseUrl}/aud/bench-probe`;
      await probeRoute(probe, gatewayTarget.headers, { aud: BENCH_AUDIENCE, dpop: false });
      targets.push({
        ...gatewayTarget,
        id: 'gateway-audience',
        label: LABELS['gateway-audience'],
        url: `${gateway.baseUrl}${AUDIENCE_PATH}`,
      });
    }
  }
  if (dpopGateway) {
    const headers = { cookie: await gatewayCookie(dpopGateway.baseUrl, 1), 'x-csrf': '1' };
    await probeRoute(`${dpopGateway.baseUrl}/api/bench-probe`, headers, { dpop: true });
    targets.push({
      id: 'gateway-dpop',
      label: LABELS['gateway-dpop'],
      url: `${dpopGateway.baseUrl}${API_PATH}`,
      headers,
      pid: dpopGateway.child.pid,
    });
  }

  console.log('bench: warm-up');
  await warmUp(targets, generator, knobs);
  console.log('bench: measured rounds');
  const rounds = await runRounds(targets, generator, knobs, redis);
  const variants = summarizeVariants(LABELS, rounds);

  const results: BenchResults = {
    schema: 1,
    startedAt: started.toISOString(),
    finishedAt: '',
    seconds: 0,
    machine: machineInfo(),
    settings: settingsOf(knobs, generator),
    variants,
    redis: gatewayRedis(rounds.get('gateway')),
    metricsStatus: null,
    rss: null,
    sessionStorage: null,
    signIns: null,
    storm: null,
  };
  if (gateway && gatewayTarget && want('gateway'))
    await gatewayExtras(results, knobs, stack, gateway, gatewayTarget);

  results.finishedAt = new Date().toISOString();
  results.seconds = (Date.now() - started.getTime()) / 1000;
  const files = await writeResults(knobs.outDir, results);
  const chart = path.join(knobs.outDir, 'chart.svg');
  await writeChart(chart, results);
  console.log(`\n${variantsTable(results)}\n\n${extrasReport(results)}\n`);
  console.log(`bench: ${results.seconds.toFixed(0)} s; wrote ${[...files, chart].map(shownPath).join(', ')}`);
}

async function gatewayExtras(
  results: BenchResults,
  knobs: Knobs,
  stack: Stack,
  gateway: GatewayProcess,
  target: Target,
): Promise<void> {
  const generator = results.settings.loadGenerator;
  const metrics = await fetch(gateway.metricsUrl);
  await metrics.arrayBuffer();
  results.metricsStatus = metrics.status;
  if (knobs.rssRequests > 0) {
    console.log(`bench: gateway RSS over ${knobs.rssRequests} requests`);
    const rps = results.variants.find((v) => v.id === 'gateway')?.median.rps ?? 1000;
    results.rss = await measureRss(target, generator, knobs, rps);
  }
  if (knobs.signIns > 0) {
    console.log(`bench: ${knobs.signIns} sign-ins through the full flow`);
    const prefix = stack.env.REDIS_KEY_PREFIX ?? 'bff:';
    const measured = await measureSignIns(
      stack.redis.client,
      prefix,
      gateway.baseUrl,
      gateway.child.pid,
      knobs,
    );
    results.sessionStorage = measured.storage;
    results.signIns = measured.signIns;
  }
  if (knobs.storm > 0) {
    console.log(`bench: refresh storm of ${knobs.storm} requests`);
    results.storm = await measureStorm(stack, gateway.baseUrl, knobs.storm);
  }
}

async function main(): Promise<void> {
  const knobs = readKnobs();
  const cleanup = new Cleanup();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    console.error(`bench: ${signal}, stopping everything it started`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (knobs.profile) await runProfile(knobs, cleanup);
    else await bench(knobs, cleanup);
  } catch (err) {
    console.error('bench failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  } finally {
    await cleanup.run();
  }
  // Leftover handles (the IdP's timers, agents' sockets) must not keep the bench alive.
  process.exit(process.exitCode ?? 0);
}

void main();
