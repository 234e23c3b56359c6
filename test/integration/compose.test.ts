/**
 * No Docker engine runs here, so this checks docker-compose.yml (and the Dockerfile) by reading them:
 * the gateway service's environment names only settings the gateway knows, the gateway's own config
 * loader accepts that environment (with the mounted files mapped to this checkout), and every port,
 * URL and shared secret agrees across the services and with `npm run demo`'s defaults.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES, loadConfig } from '../../src/config/index.js';
import { DEMO_DEFAULTS } from '../../src/dev/settings.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: { context?: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  networks?: Record<string, { aliases?: string[] } | null>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }>;
}

const compose = parseYaml(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const { redis, idp, api, gateway } = compose.services as Record<'redis' | 'idp' | 'api' | 'gateway', Service>;

function env(service: Service): Record<string, string> {
  expect(service.environment, 'environment as a mapping').toBeTypeOf('object');
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

/** `127.0.0.1:3000:3000` -> { host: 3000, container: 3000 } */
function published(service: Service): Array<{ host: number; container: number }> {
  return (service.ports ?? []).map((spec) => {
    const parts = spec.split(':');
    return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
  });
}

/** Container path -> this checkout's path, from the service's bind mounts. */
function hostPath(service: Service, containerPath: string): string {
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':');
    if (target === containerPath && source?.startsWith('.')) return path.join(ROOT, source);
  }
  throw new Error(`${containerPath} is not bind-mounted from the checkout`);
}

describe('docker-compose.yml', () => {
  it('has Redis with append-only persistence on a volume and a health check', () => {
    expect(redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(redis.volumes).toContain('redis-data:/data');
    expect(compose.volumes).toHaveProperty('redis-data');
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('names only environment variables the gateway reads (the settings table in src/config/settings.ts)', () => {
    const known: readonly string[] = ENV_NAMES;
    // The table is the real one (so a renamed export cannot make this pass vacuously).
    expect(known).toEqual(
      expect.arrayContaining(['PORT', 'OIDC_ISSUER', 'BFF_CONFIG', 'API_TARGET', 'NODE_ENV']),
    );
    const names = Object.keys(env(gateway));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !known.includes(n))).toEqual([]);
  });

  it("the gateway's environment is accepted by loadConfig and agrees with the other services", () => {
    const gatewayEnv = env(gateway);
    const configFile = hostPath(gateway, gatewayEnv.BFF_CONFIG!);
    const fileConfig = parseYaml(readFileSync(configFile, 'utf8')) as { frontend?: { dir?: string } };
    const spaDir = hostPath(gateway, fileConfig.frontend!.dir!);
    // The mounted files, found in this checkout; env wins over the file for the SPA folder.
    const config = loadConfig({ ...gatewayEnv, BFF_CONFIG: configFile, FRONTEND_DIR: spaDir });

    expect(config.production).toBe(true);
    expect(config.warnings.join('\n')).not.toMatch(/IN MEMORY|SESSION_SECRET is not set/);

    // Ports: the demo's defaults everywhere, published as they are.
    const idpEnv = env(idp);
    const apiEnv = env(api);
    expect(config.port).toBe(DEMO_DEFAULTS.gatewayPort);
    expect(published(gateway)).toEqual([
      { host: DEMO_DEFAULTS.gatewayPort, container: DEMO_DEFAULTS.gatewayPort },
    ]);
    expect(config.publicUrl).toBe(`http://localhost:${DEMO_DEFAULTS.gatewayPort}`);
    expect(Number(idpEnv.DEMO_IDP_PORT)).toBe(DEMO_DEFAULTS.idpPort);
    expect(published(idp)).toEqual([{ host: DEMO_DEFAULTS.idpPort, container: DEMO_DEFAULTS.idpPort }]);
    expect(Number(apiEnv.DEMO_API_PORT)).toBe(DEMO_DEFAULTS.apiPort);

    // The IdP: one issuer URL for the browser and the containers.
    const issuer = new URL(config.oidc.issuer);
    expect(config.oidc.issuer).toBe(idpEnv.DEMO_IDP_ISSUER);
    expect(apiEnv.DEMO_IDP_ISSUER).toBe(config.oidc.issuer);
    expect(Number(issuer.port)).toBe(DEMO_DEFAULTS.idpPort);
    expect(issuer.hostname).toMatch(/\.localhost$/); // browsers resolve it to this machine
    expect(idp.networks?.default?.aliases).toContain(issuer.hostname); // the containers to the idp service
    expect(config.oidc.clientId).toBe(idpEnv.DEMO_CLIENT_ID);
    expect(config.oidc.clientSecret).toBe(idpEnv.DEMO_CLIENT_SECRET);
    expect(idpEnv.DEMO_GATEWAY_URL).toBe(config.publicUrl);
    expect(idpEnv.DEMO_BACKCHANNEL_LOGOUT_URI).toBe(
      `http://gateway:${DEMO_DEFAULTS.gatewayPort}/auth/backchannel-logout`,
    );

    // The API: the /api route reaches the api service; tokens are issued for its audience.
    const route = config.routes.find((r) => r.prefix === '/api');
    expect(route).toMatchObject({ token: 'user', csrf: true });
    expect(route!.target).toBe(`http://api:${DEMO_DEFAULTS.apiPort}`);
    expect(config.oidc.authParams).toContainEqual(['resource', DEMO_DEFAULTS.apiAudience]);
    expect(idpEnv.DEMO_API_AUDIENCE).toBe(DEMO_DEFAULTS.apiAudience);
    expect(apiEnv.DEMO_API_AUDIENCE).toBe(DEMO_DEFAULTS.apiAudience);

    // Redis: the redis service, which the gateway waits for.
    expect(config.redis).toMatchObject({ mode: 'standalone', url: 'redis://redis:6379' });
    expect(gateway.depends_on?.redis?.condition).toBe('service_healthy');
    expect(gateway.depends_on?.idp?.condition).toBe('service_healthy');
  });

  it('builds the gateway from the runtime target and the demo parts from the demo target', () => {
    expect(gateway.build?.target).toBe('runtime');
    expect(gateway.command).toBeUndefined(); // the image's CMD: node dist/main.js
    for (const [service, entry] of [
      [idp, 'src/dev/idp-main.ts'],
      [api, 'src/dev/api-main.ts'],
    ] as const) {
      expect(service.build?.target).toBe('demo');
      expect(service.command).toEqual(['node', '--import', 'tsx', entry]);
      expect(service.healthcheck?.test?.[0]).toBe('CMD');
      expect(env(service).DEMO_HOST).toBe('0.0.0.0');
    }
  });

  it('config/demo.compose.yaml is config/demo.yaml with container addresses', () => {
    const local = parseYaml(read('config/demo.yaml')) as Record<string, unknown>;
    const inCompose = parseYaml(read('config/demo.compose.yaml')) as Record<string, unknown>;
    const withoutAddresses = (c: Record<string, unknown>) => ({
      ...c,
      frontend: undefined,
      routes: (c.routes as Array<Record<string, unknown>>).map((r) => ({ ...r, target: undefined })),
    });
    expect(withoutAddresses(inCompose)).toEqual(withoutAddresses(local));
    const localRoute = (local.routes as Array<{ target: string }>)[0]!;
    expect(new URL(localRoute.target).port).toBe(String(DEMO_DEFAULTS.apiPort));
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.find((s) => /^\S+ AS runtime$/m.test(s)) ?? '';

  it('ends in a Node 24 runtime stage with production dependencies only, as a non-root user', () => {
    expect(stages.at(-1)).toBe(runtime); // the default target
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[-\w.]*$/m);
    expect(runtime).toMatch(/^FROM \$\{NODE_IMAGE\}|^\$\{NODE_IMAGE\} AS runtime/m);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^ENV NODE_ENV=production$/m);
    expect(runtime).toContain('CMD ["node", "dist/main.js"]');
  });

  it('checks health on /healthz with node (slim images have no curl)', () => {
    const healthcheck = /^HEALTHCHECK .*\\\n.*$/m.exec(runtime)?.[0] ?? '';
    expect(healthcheck).toMatch(/CMD \["node", "-e", ".*\/healthz/);
    expect(healthcheck).not.toMatch(/curl|wget/);
  });

  it('has a demo target for the IdP and API', () => {
    const demo = stages.find((s) => /^\S+ AS demo$/m.test(s)) ?? '';
    expect(demo).toContain('COPY src/dev ./src/dev');
    expect(demo).toMatch(/^USER node$/m);
  });
});
