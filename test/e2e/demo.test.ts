/**
 * `npm run demo` as a process: the Redis it picks, a clear one-line refusal of a taken port or a bad
 * setting, and a clean stop on SIGINT. (The browser journey is browser.test.ts.)
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDemo, startDemo, type DemoProcess } from '../helpers/demo.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

/** The demo's own lines on stderr (Node 20 also gets oidc-provider's "Unsupported runtime" warning). */
function demoLines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('oidc-provider WARNING: Unsupported runtime'));
}

describe.concurrent('start-up refusals: one line naming the setting, exit 1, nothing left running', () => {
  let blocker: Server;
  let taken: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    taken = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it.each(['DEMO_PORT', 'DEMO_IDP_PORT', 'DEMO_API_PORT'])('%s in use', async (variable) => {
    const ports = {
      DEMO_PORT: await freePort(),
      DEMO_IDP_PORT: await freePort(),
      DEMO_API_PORT: await freePort(),
    };
    const proc = spawnDemo({
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      [variable]: String(taken),
    });
    expect(await proc.exited).toBe(1);
    expect(demoLines(proc.stderr())).toEqual([
      `demo: port ${taken} on 127.0.0.1 is already in use (${variable}): stop what is using it, or set ${variable} to a free port`,
    ]);
    expect(proc.stdout()).not.toContain('Open http');
  });

  it('a bad setting', async () => {
    const proc = spawnDemo({ DEMO_ACCESS_TOKEN_TTL: 'soon' });
    expect(await proc.exited).toBe(1);
    expect(demoLines(proc.stderr())).toEqual([
      'demo: DEMO_ACCESS_TOKEN_TTL must be a number of seconds 2-86400 (got "soon")',
    ]);
  });
});

describe('which Redis the gateway gets', () => {
  let redis: RedisServer;
  let demo: DemoProcess | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await demo?.kill();
    await redis?.stop();
  });

  it('REDIS_URL when set: the gateway stores its sessions there', async () => {
    demo = await startDemo({ env: { REDIS_URL: redis.url } });
    expect(demo.stdout()).toContain(`Redis    ${redis.url} (REDIS_URL)`);
    expect(demo.stdout()).toMatch(/gateway listening .*store=standalone/);
    const res = await fetch(`${demo.url}/auth/login`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect((await redis.client.keys('bff:*')).length).toBeGreaterThan(0); // the pending login
    expect(await demo.stop('SIGINT')).toBe(0);
  });

  it('no REDIS_URL and no redis-server on the PATH: the in-memory store, with the warning; SIGINT exits 0', async () => {
    demo = await startDemo({ env: { PATH: '/nonexistent' } });
    expect(demo.stdout()).toContain('Redis    none: no REDIS_URL and no redis-server on the PATH');
    expect(demo.stdout()).toMatch(/gateway listening .*store=memory/);
    expect(demo.stdout() + demo.stderr()).toMatch(/sessions are kept IN MEMORY/);
    expect((await fetch(`${demo.url}/readyz`)).status).toBe(200);
    expect(await demo.stop('SIGINT')).toBe(0);
    expect(demo.stdout()).toContain('stopped');
  });
});
