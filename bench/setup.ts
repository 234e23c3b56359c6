/**
 * Starts what the bench measures: a real redis-server and the test OpenID Provider (via the test
 * stack, whose in-process gateway stays idle and serves only the storm's session set-up), the JSON
 * upstream, the two Express baselines, and the gateway as its own process; and signs each variant in.
 */
import { closeSync, openSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startStack, type Stack } from '../test/helpers/gateway.js';
import { freePort } from '../test/helpers/ports.js';
import { waitForStatus } from '../test/helpers/process.js';
import { BENCH_DIR, type VariantId } from './knobs.js';
import { readyPort, spawnNode, type NodeChild } from './procs.js';
import { loopbackAddress, signInAt } from './signin.js';

/** Stops everything registered, last in first out, each step at most once even if run twice. */
export class Cleanup {
  private readonly steps: Array<() => Promise<void>> = [];
  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (err) {
        console.error('bench cleanup:', err instanceof Error ? err.message : err);
      }
    }
  }
}

export const LABELS: Record<VariantId, string> = {
  upstream: '(a) upstream direct',
  bare: '(b) express + http-proxy-middleware',
  'hand-built': '(c) hand-built express-session proxy',
  gateway: '(d) gateway',
  'gateway-audience': '(e) gateway, route with its own audience',
  'gateway-dpop': '(f) gateway, OIDC_DPOP=true',
};

/** The (e) route's API: tokens for it come from a refresh with `resource` (one per session, then cached). */
export const BENCH_AUDIENCE = 'https://orders.bench.example';
export const AUDIENCE_PATH = '/aud/orders';

/** One load target: where to send it, with which headers, and the process whose CPU it costs. */
export interface Target {
  id: VariantId;
  label: string;
  url: string;
  /** Secrets (cookies) among them: never print these. */
  headers: Record<string, string>;
  pid: number;
}

export interface GatewayProcess {
  child: NodeChild;
  baseUrl: string;
  metricsUrl: string;
}

const SERVERS = path.join(BENCH_DIR, 'servers');

/** Long-lived access tokens, so the steady-state load never refreshes; the storm expires its own. */
const ACCESS_TOKEN_TTL_SEC = 3600;

/**
 * `audienceRoute`: also the (e) route `/aud` → upstream with `audience: BENCH_AUDIENCE` (the IdP knows
 * that resource; the authorization request then names it). Off, the configuration is (d)'s alone.
 */
export async function startBase(
  cleanup: Cleanup,
  audienceRoute = false,
): Promise<{ stack: Stack; upstream: NodeChild; upstreamUrl: string }> {
  const upstream = spawnNode('upstream', path.join(SERVERS, 'upstream.ts'), { env: {} });
  cleanup.add(() => upstream.stop());
  const upstreamUrl = `http://127.0.0.1:${await readyPort(upstream)}`;
  const stack = await startStack({
    idp: {
      accessTokenTtl: ACCESS_TOKEN_TTL_SEC,
      ...(audienceRoute ? { resources: [BENCH_AUDIENCE] } : {}),
    },
    routes: [
      { prefix: '/api', target: upstreamUrl, token: 'user' },
      ...(audienceRoute
        ? [{ prefix: '/aud', target: upstreamUrl, token: 'user', audience: BENCH_AUDIENCE }]
        : []),
    ],
    env: { LOG_LEVEL: 'warn' },
  });
  cleanup.add(() => stack.stop());
  return { stack, upstream, upstreamUrl };
}

/**
 * The gateway as `npm start` runs it (src/main.ts through tsx), with the stack's configuration, on
 * its own port, at the default log level (one request line per request, to /dev/null through an
 * fd, never piped into the bench) and with metrics on.
 */
export async function startGateway(
  stack: Stack,
  cleanup: Cleanup,
  nodeArgs: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const env: Record<string, string> = {
    ...stack.env,
    ...extraEnv,
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
  };
  delete env.LOG_LEVEL; // the default, info
  const devNull = openSync('/dev/null', 'w');
  let child: NodeChild;
  try {
    child = spawnNode('gateway', 'src/main.ts', { env, nodeArgs, stdout: devNull });
  } finally {
    closeSync(devNull); // the child holds its own copy
  }
  cleanup.add(() => child.stop());
  const baseUrl = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForStatus(`${baseUrl}/readyz`, 200, 60_000),
    child.exited.then((code) => {
      throw new Error(`the gateway exited (${code}) during start-up:\n${child.stderr()}`);
    }),
  ]);
  return { child, baseUrl, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

/** The Express baselines (b) and (c), each its own process. */
export async function startBaseline(
  id: 'bare' | 'hand-built',
  upstreamUrl: string,
  redisUrl: string,
  cleanup: Cleanup,
): Promise<{ child: NodeChild; baseUrl: string }> {
  const file = path.join(SERVERS, id === 'bare' ? 'bare-proxy.ts' : 'hand-built.ts');
  const child = spawnNode(id, file, { env: { UPSTREAM_URL: upstreamUrl, REDIS_URL: redisUrl } });
  cleanup.add(() => child.stop());
  return { child, baseUrl: `http://127.0.0.1:${await readyPort(child)}` };
}

/** The hand-built proxy's session cookie, from its /login route. */
export async function handBuiltCookie(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/login`);
  await res.arrayBuffer();
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (res.status !== 200 || !cookie)
    throw new Error(`hand-built /login answered ${res.status} without a cookie`);
  return cookie;
}

/** The gateway's signed-in Cookie header, through the real login flow (from loopback address #`from`). */
export async function gatewayCookie(gatewayUrl: string, from = 0): Promise<string> {
  const agent = new http.Agent({ keepAlive: true });
  try {
    return (await signInAt(gatewayUrl, 'alice', loopbackAddress(from), agent)).cookie;
  } finally {
    agent.destroy();
  }
}

/**
 * Asks the upstream (through `url`'s route) what the gateway sent: throws unless it is what the row
 * claims to measure (a token for `aud`; a DPoP token with its proof), so a row never measures something else.
 */
export async function probeRoute(
  url: string,
  headers: Record<string, string>,
  expected: { aud?: string; dpop: boolean },
): Promise<void> {
  const res = await fetch(url, { headers });
  const seen = (await res.json()) as { scheme?: string; proof?: boolean; aud?: unknown };
  const ok =
    res.status === 200 &&
    (expected.aud === undefined || seen.aud === expected.aud) &&
    (seen.scheme === 'DPoP') === expected.dpop &&
    seen.proof === expected.dpop;
  if (!ok)
    throw new Error(
      `${url} reached the upstream with ${res.status} ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`,
    );
}

export const API_PATH = '/api/orders';
export const UPSTREAM_PATH = '/orders';
