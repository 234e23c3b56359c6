/** What the browser and operators reach: the public URL, the frontend and the metrics listener. */
import { statSync, type Stats } from 'node:fs';
import path from 'node:path';

import { Invalid } from '../invalid.js';
import { show } from '../parsers.js';
import { isLoopbackHost, parseOrigin } from '../parsers-net.js';
import type { Source } from '../problems.js';
import type { Context } from '../reader.js';
import type { GatewayConfig } from '../types.js';

/** BFF_PUBLIC_URL, by default `http://localhost:${PORT}` (skipped while PORT is bad). */
export function loadPublicUrl(ctx: Context, port: number | undefined): URL | undefined {
  const { r, problems } = ctx;
  const raw = r.raw('BFF_PUBLIC_URL');
  if (raw === undefined && (r.bad('BFF_PUBLIC_URL') || port === undefined)) return undefined;
  const value = raw?.value ?? `http://localhost:${port}`;
  const src: Source = raw?.src ?? { variable: 'BFF_PUBLIC_URL', label: 'BFF_PUBLIC_URL (default)' };
  const url = raw === undefined ? problems.at(src, () => parseOrigin(value)) : r.parse('BFF_PUBLIC_URL', raw);
  if (url === undefined || url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return url;
  if (ctx.production) {
    return problems.fail(
      src,
      `must be https when NODE_ENV=production (got ${show(value)}): http cookies cannot be Secure`,
    );
  }
  ctx.warnings.push(
    `BFF_PUBLIC_URL ${url.origin} is plain http on a non-loopback host: cookies are not Secure; use https outside development`,
  );
  return url;
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined; // missing, or a path through a file: either way not a usable directory
  }
}

/** A relative path in the file is relative to the file, in env to the working directory. */
function resolveDir(value: string, src: Source, filePath: string | undefined): string {
  const base =
    src.fileKey !== undefined && filePath !== undefined
      ? path.dirname(path.resolve(filePath))
      : process.cwd();
  const absolute = path.resolve(base, value);
  const stat = statOrUndefined(absolute);
  if (stat === undefined)
    throw new Invalid(`points to ${absolute}, which does not exist: build the SPA or fix the path`);
  if (!stat.isDirectory()) throw new Invalid(`points to ${absolute}, which is not a directory`);
  return absolute;
}

/** FRONTEND_DIR or FRONTEND_URL (one of them); like the Redis mode, env picks the frontend as a whole. */
export function loadFrontend(ctx: Context): GatewayConfig['frontend'] {
  const { r, problems } = ctx;
  const envChose = r.envHas('FRONTEND_DIR') || r.envHas('FRONTEND_URL');
  const dir = r.raw('FRONTEND_DIR', { ignoreFile: envChose });
  const url = r.raw('FRONTEND_URL', { ignoreFile: envChose });
  if (dir !== undefined && url !== undefined) {
    problems.add(
      dir.src.variable,
      `${dir.src.label} and ${url.src.label} are both set: serve a built SPA with FRONTEND_DIR or proxy a dev server with FRONTEND_URL, not both`,
    );
    return { dir: undefined, url: undefined };
  }
  return {
    dir:
      dir === undefined ? undefined : problems.at(dir.src, () => resolveDir(dir.value, dir.src, r.filePath)),
    url: r.parse('FRONTEND_URL', url),
  };
}

/** METRICS_PORT: its own listener, so never the gateway's PORT (checked only while PORT is good). */
export function loadMetricsPort(ctx: Context, port: number | undefined): number | undefined {
  const { r } = ctx;
  const raw = r.raw('METRICS_PORT');
  const metricsPort = r.parse('METRICS_PORT', raw);
  if (raw === undefined || metricsPort === undefined || port === undefined) return metricsPort;
  if (metricsPort === port && port !== 0) {
    return ctx.problems.fail(raw.src, `must differ from PORT (${port}): pick another port for /metrics`);
  }
  return metricsPort;
}
