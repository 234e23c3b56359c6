/**
 * Throughput and latency of the /api hot path, and its cost in Redis commands.
 *
 *   npm run bench            (BENCH_REQUESTS=20000 BENCH_CONCURRENCY=32 to change the load)
 *
 * Starts a real redis-server, the test OpenID Provider and an upstream in this process, the gateway as
 * its own process (so the load generator does not share its event loop), signs in once, then sends the
 * same keep-alive load straight to the upstream and through the gateway. Figures depend on the machine;
 * they are printed, never asserted.
 */
import http from 'node:http';
import { signIn, startStack } from '../test/helpers/gateway.js';
import { freePort } from '../test/helpers/ports.js';
import { spawnGateway, waitForStatus } from '../test/helpers/process.js';
import { startUpstream } from '../test/helpers/upstream.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const started = process.hrtime.bigint();
      const req = http.get(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const worker = async () => {
    while (next++ < REQUESTS) await one();
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (Date.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  return { rps: Math.round(REQUESTS / seconds), p50: at(0.5), p99: at(0.99), errors };
}

async function commandCalls(client: import('ioredis').Redis): Promise<number> {
  const info = await client.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) if (m[1] !== 'info') total += Number(m[2]);
  return total;
}

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const stack = await startStack({
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
    env: { LOG_LEVEL: 'warn' },
  });
  const port = await freePort();
  const gateway = spawnGateway({ ...stack.env, PORT: String(port), LOG_LEVEL: 'warn' });
  try {
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200);
    const alice = await signIn(stack);
    const headers = { cookie: alice.cookie, 'x-csrf': '1' };
    // Warm up both paths (JIT, connection pools).
    await load(`${upstream.url}/status?code=200`, {});
    await load(`http://127.0.0.1:${port}/api/status?code=200`, headers);

    const direct = await load(`${upstream.url}/status?code=200`, {});
    const before = await commandCalls(stack.redis.client);
    const proxied = await load(`http://127.0.0.1:${port}/api/status?code=200`, headers);
    const redisPerRequest = ((await commandCalls(stack.redis.client)) - before) / REQUESTS;

    const row = (name: string, r: Result) =>
      `| ${name} | ${r.rps} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`;
    console.log(
      `\n${REQUESTS} GET requests, ${CONCURRENCY} concurrent, keep-alive, Node ${process.version}\n`,
    );
    console.log('| path | req/s | p50 ms | p99 ms | errors |');
    console.log('| --- | --- | --- | --- | --- |');
    console.log(row('upstream directly', direct));
    console.log(row('through the gateway (signed-in user route)', proxied));
    console.log(`\nRedis commands per proxied request: ${redisPerRequest.toFixed(3)}`);
  } finally {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
    await stack.stop();
    await upstream.stop();
  }
}

void main();
