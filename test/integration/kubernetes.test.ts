/**
 * No cluster runs here, so this checks deploy/kubernetes/ by reading it, as compose.test.ts does for
 * docker-compose.yml: the environment the Deployment gives the gateway (its own env plus the
 * ConfigMap and Secret it loads with envFrom) names only settings the config loader reads and is
 * accepted by that loader in production mode (with real-shaped secrets in place of the
 * placeholders), and the ports, probes, Service, PodDisruptionBudget and security settings agree
 * with what the gateway really does.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_NAMES, loadConfig } from '../../src/config/index.js';
import {
  ROOT,
  DIR,
  read,
  kustomization,
  one,
  deployment,
  pod,
  gateway,
  containerEnv,
  withRealSecrets,
  containerPort,
  selects,
  loadManifests,
  type Service,
} from '../helpers/kubernetes.js';

// ---------------------------------------------------------------------------
// What the gateway really reads
// ---------------------------------------------------------------------------

describe('deploy/kubernetes', () => {
  /** Every env name the gateway reads: the settings table (src/config/settings.ts). */
  const known = new Set<string>(ENV_NAMES);
  const { env, fromSecret, fromConfigMap } = containerEnv();

  it('lists every manifest in the folder (the example Redis aside) in kustomization.yaml', () => {
    expect(kustomization.kind).toBe('Kustomization');
    const files = readdirSync(path.join(ROOT, DIR)).filter((f) => /\.ya?ml$/.test(f));
    expect(files.filter((f) => f !== 'kustomization.yaml' && f !== 'redis-example.yaml').sort()).toEqual(
      [...kustomization.resources].sort(),
    );
  });

  it('names only environment variables the gateway reads', () => {
    // The table is the real one (so a renamed export cannot make this pass vacuously).
    for (const name of [
      'PORT',
      'METRICS_PORT',
      'SESSION_SECRET',
      'TRUST_PROXY',
      'BFF_CONFIG',
      'API_TARGET',
      'NODE_ENV',
    ]) {
      expect(known, `the loader reads ${name}`).toContain(name);
    }
    expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
    for (const name of [
      'NODE_ENV',
      'PORT',
      'METRICS_PORT',
      'OIDC_ISSUER',
      'OIDC_CLIENT_ID',
      'BFF_PUBLIC_URL',
    ]) {
      expect(env, `the Deployment sets ${name}`).toHaveProperty(name);
    }
    expect(env.NODE_ENV).toBe('production');
  });

  it('keeps the secrets in the Secret, and everything else out of it', () => {
    const secrets = ['SESSION_SECRET', 'OIDC_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEY'];
    expect([...fromSecret]).toEqual(expect.arrayContaining(['SESSION_SECRET', 'OIDC_CLIENT_SECRET']));
    expect([...fromSecret].filter((name) => !secrets.includes(name))).toEqual([]);
    expect([...fromConfigMap].filter((name) => secrets.includes(name))).toEqual([]);
    expect((gateway.env ?? []).map((v) => v.name).filter((name) => secrets.includes(name))).toEqual([]);
    for (const name of [
      'OIDC_ISSUER',
      'OIDC_CLIENT_ID',
      'BFF_PUBLIC_URL',
      'REDIS_URL',
      'TRUST_PROXY',
      'PORT',
      'METRICS_PORT',
    ]) {
      expect([...fromConfigMap], `${name} in the ConfigMap`).toContain(name);
    }
  });

  it('is refused as checked in: the placeholder SESSION_SECRET cannot go live', () => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toContain('SESSION_SECRET');
  });

  it("is accepted by the gateway's config loader in production once the secrets are filled in", () => {
    const config = loadConfig(withRealSecrets(env));
    expect(config.production).toBe(true);
    expect(config.port).toBe(Number(env.PORT));
    expect(config.metrics.port).toBe(Number(env.METRICS_PORT));
    expect(config.oidc.issuer).toBe(env.OIDC_ISSUER);
    expect(config.oidc.clientId).toBe(env.OIDC_CLIENT_ID);
    expect(config.publicUrl).toBe(env.BFF_PUBLIC_URL);
    expect(config.publicUrl).toMatch(/^https:\/\//);
    expect(config.session.cookieName).toMatch(/^__Host-/); // the Secure cookie is issued
    expect(config.redis.mode).not.toBe('memory');
    expect(config.warnings).toEqual([]);
  });

  it('trusts the proxy by address, never `true` or a hop count', () => {
    const raw = env.TRUST_PROXY ?? '';
    expect(raw).not.toMatch(/^\s*(true|\d+)\s*$/i);
    const { trustProxy } = loadConfig(withRealSecrets(env));
    expect(typeof trustProxy).toBe('string'); // the loader's reading of it: addresses, not true/false/a count
  });

  it('declares the gateway and metrics ports the configuration sets, and probes /healthz and /readyz there', () => {
    const port = Number(env.PORT);
    const metricsPort = Number(env.METRICS_PORT);
    expect(containerPort('http')).toBe(port);
    expect(containerPort('metrics')).toBe(metricsPort);
    expect(gateway.ports?.map((p) => p.containerPort).sort()).toEqual([port, metricsPort].sort());

    expect(gateway.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(containerPort(gateway.livenessProbe?.httpGet?.port)).toBe(port);
    expect(gateway.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(containerPort(gateway.readinessProbe?.httpGet?.port)).toBe(port);
  });

  it('exposes both through a ClusterIP Service selecting the pods, the metrics port named `metrics`', () => {
    const service = one('Service');
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(selects(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
    const targets = service.spec.ports.map((p) => ({
      name: p.name,
      target: containerPort(p.targetPort ?? p.port),
    }));
    expect(targets).toEqual(
      expect.arrayContaining([
        { name: 'metrics', target: Number(env.METRICS_PORT) },
        expect.objectContaining({ target: Number(env.PORT) }),
      ]),
    );
    expect(targets.every((t) => t.target !== undefined)).toBe(true);
  });

  it('runs several replicas, covered by a PodDisruptionBudget', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const labels = deployment.spec.template.metadata.labels;
    expect(selects(deployment.spec.selector, labels)).toBe(true);
    const pdb = one('PodDisruptionBudget');
    expect(selects(pdb.spec.selector, labels)).toBe(true);
    const { minAvailable, maxUnavailable } = pdb.spec;
    // Exactly one of them, leaving room to drain a node.
    expect([minAvailable, maxUnavailable].filter((v) => v !== undefined)).toHaveLength(1);
    if (minAvailable !== undefined) expect(Number(minAvailable)).toBeLessThan(deployment.spec.replicas);
    if (maxUnavailable !== undefined) expect(Number(maxUnavailable)).toBeGreaterThanOrEqual(1);
  });

  it('runs the Dockerfile image as its non-root user on a read-only root filesystem', () => {
    const imageName = /docker build -t (\S+) \./.exec(read('Dockerfile'))?.[1];
    expect(imageName).toBeDefined();
    expect(gateway.image.split(':')[0]).toBe(imageName);
    expect(gateway.command, "the image's CMD").toBeUndefined();
    expect(gateway.args).toBeUndefined();

    const security = { ...pod.securityContext, ...gateway.securityContext };
    expect(security.runAsNonRoot).toBe(true);
    // The image's USER is a name (`node`), which the kubelet cannot check against runAsNonRoot.
    expect(security.runAsUser).toBe(1000);
    expect(security.allowPrivilegeEscalation).toBe(false);
    expect(security.capabilities?.drop).toContain('ALL');
    expect(security.readOnlyRootFilesystem).toBe(true);
    // ... which holds because the gateway writes nothing to disk: no file writes outside src/dev.
    const writers = listSources('src')
      .filter((file) => !file.startsWith('src/dev/'))
      .filter((file) =>
        /\b(writeFile|appendFile|createWriteStream|mkdir|mkdtemp|rename|copyFile)(Sync)?\(/.test(read(file)),
      );
    expect(writers, 'these write files: mount an emptyDir for them or drop readOnlyRootFilesystem').toEqual(
      [],
    );

    expect(gateway.resources?.requests?.cpu).toBeDefined();
    expect(gateway.resources?.requests?.memory).toBeDefined();
    expect(gateway.resources?.limits?.memory).toBeDefined();
  });

  it("gives the gateway's graceful shutdown room: preStop, then 10 s for in-flight requests", () => {
    const preStop = gateway.lifecycle?.preStop;
    const command = preStop?.exec?.command ?? [];
    const sleep = preStop?.sleep?.seconds ?? (command[0] === 'sleep' ? Number(command[1]) : NaN);
    expect(sleep).toBeGreaterThan(0);
    // app.ts closeServer: in-flight requests and streams get 10 s (README "Scaling and operations").
    expect(read('src/app.ts')).toMatch(/shutdownGraceMs \?\? 10_000/);
    expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(sleep + 10);
  });

  it('the example Redis (not in the kustomization) is what REDIS_URL names', () => {
    const redisUrl = new URL(env.REDIS_URL!);
    const docs = loadManifests('redis-example.yaml');
    expect(read(path.join(DIR, 'redis-example.yaml'))).toMatch(/NOT FOR PRODUCTION/);
    const service = docs.find((m): m is Service => m.kind === 'Service');
    expect(service?.metadata.name).toBe(redisUrl.hostname);
    expect(service?.spec.ports.map((p) => p.port)).toContain(Number(redisUrl.port || 6379));
    expect(kustomization.resources).not.toContain('redis-example.yaml');
  });
});

function listSources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}
