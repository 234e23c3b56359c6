/**
 * deploy/kubernetes/ as kubernetes.test.ts reads it: the manifests kustomization.yaml lists (typed as
 * far as the test looks at them), the gateway container and the environment it gets.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { expect } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIR = 'deploy/kubernetes';
export const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

// ---------------------------------------------------------------------------
// The manifests, as far as this test looks at them
// ---------------------------------------------------------------------------

export interface Meta {
  name: string;
  labels?: Record<string, string>;
}
export interface Selector {
  matchLabels?: Record<string, string>;
}
export interface Port {
  name?: string;
  containerPort: number;
}
export interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
export interface EnvFrom {
  configMapRef?: { name: string };
  secretRef?: { name: string };
  prefix?: string;
}
export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[] };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  ports?: Port[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: {
    requests?: { cpu?: string; memory?: string };
    limits?: { cpu?: string; memory?: string };
  };
  securityContext?: SecurityContext;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
export interface Deployment {
  kind: 'Deployment';
  metadata: Meta;
  spec: {
    replicas: number;
    selector: Selector;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        containers: Container[];
        terminationGracePeriodSeconds?: number;
        securityContext?: SecurityContext;
      };
    };
  };
}
export interface ConfigMap {
  kind: 'ConfigMap';
  metadata: Meta;
  data?: Record<string, string>;
}
export interface Secret {
  kind: 'Secret';
  metadata: Meta;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
export interface Service {
  kind: 'Service';
  metadata: Meta;
  spec: {
    type?: string;
    selector: Record<string, string>;
    ports: Array<{ name?: string; port: number; targetPort?: number | string }>;
  };
}
export interface PodDisruptionBudget {
  kind: 'PodDisruptionBudget';
  metadata: Meta;
  spec: { minAvailable?: number | string; maxUnavailable?: number | string; selector: Selector };
}
export type Manifest = Deployment | ConfigMap | Secret | Service | PodDisruptionBudget;

export function loadManifests(file: string): Manifest[] {
  return parseAllDocuments(read(path.join(DIR, file))).map((doc) => {
    expect(doc.errors, `${file}: YAML errors`).toEqual([]);
    return doc.toJS() as Manifest;
  });
}

export const kustomization = parseYaml(read(path.join(DIR, 'kustomization.yaml'))) as {
  kind: string;
  resources: string[];
};
export const manifests = kustomization.resources.flatMap(loadManifests);

export function one<K extends Manifest['kind']>(kind: K, name?: string): Extract<Manifest, { kind: K }> {
  const found = manifests.filter(
    (m): m is Extract<Manifest, { kind: K }> =>
      m.kind === kind && (name === undefined || m.metadata.name === name),
  );
  expect(
    found.map((m) => m.metadata.name),
    `one ${kind}${name ? ` ${name}` : ''}`,
  ).toHaveLength(1);
  return found[0]!;
}

export const deployment = one('Deployment');
export const pod = deployment.spec.template.spec;
export const gateway = pod.containers.find((c) => c.name === 'gateway') ?? pod.containers[0]!;

/** The Deployment's environment as the container sees it: envFrom in order, then env (which wins). */
export function containerEnv(): {
  env: Record<string, string>;
  fromSecret: Set<string>;
  fromConfigMap: Set<string>;
} {
  const env: Record<string, string> = {};
  const fromSecret = new Set<string>();
  const fromConfigMap = new Set<string>();
  for (const source of gateway.envFrom ?? []) {
    expect(source.prefix, 'envFrom without a prefix').toBeUndefined();
    if (source.configMapRef) {
      const map = one('ConfigMap', source.configMapRef.name);
      for (const [k, v] of Object.entries(map.data ?? {})) {
        env[k] = String(v);
        fromConfigMap.add(k);
      }
    } else if (source.secretRef) {
      const secret = one('Secret', source.secretRef.name);
      const decoded = Object.entries(secret.data ?? {}).map(
        ([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')] as const,
      );
      for (const [k, v] of [...decoded, ...Object.entries(secret.stringData ?? {})]) {
        env[k] = String(v);
        fromSecret.add(k);
      }
    } else {
      throw new Error(`unsupported envFrom entry ${JSON.stringify(source)}`);
    }
  }
  for (const variable of gateway.env ?? []) {
    if (variable.valueFrom !== undefined) throw new Error(`${variable.name}: valueFrom is not resolved here`);
    env[variable.name] = String(variable.value ?? '');
  }
  return { env, fromSecret, fromConfigMap };
}

/** The Secret's placeholders replaced with values of the shape the gateway requires. */
export function withRealSecrets(env: Record<string, string>): Record<string, string> {
  return {
    ...env,
    SESSION_SECRET: randomBytes(48).toString('base64'),
    OIDC_CLIENT_SECRET: randomBytes(24).toString('base64url'),
    ...(env.TOKEN_ENCRYPTION_KEY === undefined
      ? {}
      : { TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') }),
  };
}

/** A container port by number or by name. */
export function containerPort(ref: number | string | undefined): number | undefined {
  if (typeof ref === 'number') return ref;
  return gateway.ports?.find((p) => p.name === ref)?.containerPort;
}

export function selects(
  selector: Selector | Record<string, string>,
  labels: Record<string, string>,
): boolean {
  const match =
    'matchLabels' in selector ? (selector.matchLabels ?? {}) : (selector as Record<string, string>);
  return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => labels[k] === v);
}
