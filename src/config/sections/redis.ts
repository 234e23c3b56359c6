/** The session store: in-memory, one Redis, a Redis Cluster or Sentinels. */
import type { Raw } from '../problems.js';
import type { Context } from '../reader.js';
import type { RedisConfig } from '../types.js';

const MODES = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const;

/** The redis section; undefined when any problem was recorded (the config is refused then anyway). */
export function loadRedis(ctx: Context): RedisConfig | undefined {
  const { r, problems } = ctx;
  const keyPrefix = r.value('REDIS_KEY_PREFIX');

  // The mode is chosen as a whole: when env picks one, the file's mode keys are ignored.
  const envChoseMode = MODES.some((name) => r.envHas(name));
  const url = r.raw('REDIS_URL', { ignoreFile: envChoseMode });
  const nodes = r.raw('REDIS_CLUSTER_NODES', { ignoreFile: envChoseMode });
  const sentinels = r.raw('REDIS_SENTINELS', { ignoreFile: envChoseMode });
  const envChoseOther = envChoseMode && !r.envHas('REDIS_SENTINELS');
  const name = r.raw('REDIS_SENTINEL_NAME', { ignoreFile: envChoseOther });

  const chosen: Array<Raw<unknown>> = [url, nodes, sentinels].filter((raw) => raw !== undefined);
  const together = chosen.length > 1;
  if (together) {
    problems.add(
      chosen[0]!.src.variable,
      `${chosen.map((raw) => raw.src.label).join(' and ')} are set together: choose one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS`,
    );
  }
  if (name !== undefined && sentinels === undefined && !r.bad('REDIS_SENTINELS')) {
    problems.fail(
      name.src,
      'is set but REDIS_SENTINELS is not: set REDIS_SENTINELS to the sentinels host:port list, or unset it',
    );
  }
  if (together) return undefined;

  if (url !== undefined) {
    const parsed = r.parse('REDIS_URL', url);
    return parsed === undefined || keyPrefix === undefined
      ? undefined
      : { mode: 'standalone', url: parsed, keyPrefix };
  }
  if (nodes !== undefined) {
    const parsed = r.parse('REDIS_CLUSTER_NODES', nodes);
    return parsed === undefined || keyPrefix === undefined
      ? undefined
      : { mode: 'cluster', nodes: parsed, keyPrefix };
  }
  if (sentinels !== undefined) {
    const hosts = r.parse('REDIS_SENTINELS', sentinels);
    if (name === undefined && !r.bad('REDIS_SENTINEL_NAME')) {
      problems.add(
        'REDIS_SENTINEL_NAME',
        `REDIS_SENTINEL_NAME is required with ${sentinels.src.label}: set it to the monitored master's name (e.g. mymaster)`,
      );
    }
    return hosts === undefined || name === undefined || keyPrefix === undefined
      ? undefined
      : { mode: 'sentinel', sentinels: hosts, name: name.value, keyPrefix };
  }
  // A mode given in the file but with a bad shape: not "unset", so no memory store and no warning.
  if (MODES.some((mode) => r.bad(mode))) return undefined;

  if (ctx.production) {
    return problems.add(
      'REDIS_URL',
      'REDIS_URL is required when NODE_ENV=production (the in-memory store loses sessions on restart and is not shared): set REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS',
    );
  }
  ctx.warnings.push(
    'No REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS: sessions are kept IN MEMORY, lost on restart and not shared between instances; never run this in production',
  );
  return keyPrefix === undefined ? undefined : { mode: 'memory', keyPrefix };
}
