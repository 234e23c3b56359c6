/** The printed report: markdown tables, in the order of the JSON. */
import type { BenchResults } from './results.js';

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits);
const ratio = (n: number | null): string => (n === null ? '–' : `${n.toFixed(2)}×`);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export function variantsTable(results: BenchResults): string {
  const s = results.settings;
  const lines = [
    `GET /api/… with a ~300 B JSON answer, ${s.loadGenerator} ${s.loadGenerator === 'wrk' ? `${s.threads} threads × ` : ''}${s.connections} connections, ` +
      `${s.rounds} interleaved round(s) of ${s.durationSec} s after ${s.warmupSec} s warm-up, medians; ` +
      `Node ${results.machine.node}, ${results.machine.cpus} CPUs (${results.machine.cpuModel})`,
    '',
    '| variant | req/s | p50 ms | p99 ms | CPU µs/req | × (b) | × (c) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const v of results.variants) {
    const m = v.median;
    lines.push(
      `| ${v.label} | ${int(m.rps)} | ${fmt(m.p50Ms, 2)} | ${fmt(m.p99Ms, 2)} | ${fmt(m.cpuUsPerRequest)} | ${ratio(v.ratioToBare)} | ${ratio(v.ratioToHandBuilt)} |`,
    );
  }
  const bad = results.variants.flatMap((v) =>
    v.rounds
      .filter((r) => r.non2xx + r.errors > 0)
      .map((r) => `${v.label} round ${r.round}: ${r.non2xx} non-2xx, ${r.errors} errors`),
  );
  if (bad.length > 0) lines.push('', 'Failed requests:', ...bad.map((b) => `- ${b}`));
  return lines.join('\n');
}

export function extrasReport(results: BenchResults): string {
  const out: string[] = [];
  if (results.redis) {
    const byCommand = Object.entries(results.redis.gatewayCommands)
      .map(([k, v]) => `${k} ${v >= 0.01 ? v.toFixed(3) : v.toPrecision(2)}`)
      .join(', ');
    out.push(
      `Redis commands per steady-state gateway request: ${results.redis.gatewayCommandsPerRequest.toFixed(3)} (${byCommand || 'none'})`,
    );
    const hb = results.variants.find((v) => v.id === 'hand-built');
    if (hb)
      out.push(`Redis commands per hand-built request: ${hb.median.redisCommandsPerRequest.toFixed(3)}`);
  }
  out.push(...perRouteLines(results));
  if (results.metricsStatus !== null)
    out.push(`Gateway /metrics (METRICS_PORT) answered ${results.metricsStatus}`);
  const st = results.sessionStorage;
  if (st) {
    out.push(
      '',
      `Redis per signed-in session (${st.signIns} distinct sign-ins): ${int(st.bytesPerSignIn)} B used_memory, ` +
        `${int(st.memoryUsageBytesPerSignIn)} B by MEMORY USAGE, ${st.keysPerSignIn.toFixed(2)} keys`,
      '',
      '| key pattern | type | keys/sign-in | B/sign-in | B/key | median TTL s |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
      ...st.patterns.map(
        (p) =>
          `| \`${p.pattern}\` | ${p.type} | ${p.keysPerSignIn.toFixed(2)} | ${int(p.bytesPerSignIn)} | ${int(p.bytesPerKey)} | ${p.medianTtlSec} |`,
      ),
    );
  }
  const si = results.signIns;
  if (si) {
    const conc = si.concurrent
      ? `, ${si.concurrent.perSecond.toFixed(1)}/s at concurrency ${si.concurrent.concurrency} (${si.concurrent.count})`
      : '';
    out.push(
      '',
      `Sign-ins through the full flow: ${si.sequential.perSecond.toFixed(1)}/s one at a time (${si.sequential.count})${conc}; ` +
        `gateway CPU ${int(si.gatewayCpuUsPerSignIn)} µs per sign-in; ${si.failures} failed`,
    );
  }
  const storm = results.storm;
  if (storm) {
    const statuses = Object.entries(storm.statuses)
      .map(([k, v]) => `${k}×${v}`)
      .join(', ');
    out.push(
      '',
      `Refresh storm: ${storm.requests} concurrent requests from one session right after expiry ` +
        `(${storm.sentBeforeFirstAnswer} sent before the first answer): ${storm.refreshGrants} IdP refresh grant(s), ` +
        `${storm.refreshGrantErrors} refused, ${storm.errors} error response(s) [${statuses}] in ${storm.seconds.toFixed(2)} s; ` +
        `next request ${storm.nextRequestStatus}`,
    );
  }
  const rss = results.rss;
  if (rss) {
    const sign = rss.changePercent >= 0 ? '+' : '';
    const range =
      rss.samplesMiB.length > 1
        ? `; ${Math.min(...rss.samplesMiB).toFixed(1)}–${Math.max(...rss.samplesMiB).toFixed(1)} MiB along the way`
        : '';
    out.push(
      '',
      `Gateway RSS: ${rss.beforeMiB.toFixed(1)} MiB before, ${rss.afterMiB.toFixed(1)} MiB after ${int(rss.requests)} more requests ` +
        `(${sign}${rss.changePercent.toFixed(1)} %${range}; ${rss.non2xx} non-2xx, ${rss.errors} errors)`,
    );
  }
  return out.join('\n');
}

/** (e) and (f) against (d): what a route with its own audience, and DPoP, cost per request. */
function perRouteLines(results: BenchResults): string[] {
  const of = (id: string) => results.variants.find((v) => v.id === id)?.median;
  const d = of('gateway');
  const e = of('gateway-audience');
  const f = of('gateway-dpop');
  const out: string[] = [];
  if (e)
    out.push(
      `Redis commands per steady-state request on the audience route (e): ${e.redisCommandsPerRequest.toFixed(3)}`,
    );
  if (f && d)
    out.push(
      `DPoP (f) vs (d): ${fmt(f.cpuUsPerRequest - d.cpuUsPerRequest)} µs more CPU per request, ` +
        `${ratio(f.rps / d.rps)} the req/s, Redis commands per request ${f.redisCommandsPerRequest.toFixed(3)}`,
    );
  return out;
}
