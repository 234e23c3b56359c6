import type { RouteConfig } from '../config/types.js';

export interface RouteMatch {
  route: RouteConfig;
  /** The upstream path and query: the prefix replaced by the target's path. */
  upstreamUrl: string;
}

/**
 * Prefix routing on whole path segments (`/api/orders` matches `/api/orders` and `/api/orders/1`, not
 * `/api/ordersX`); the longest prefix wins. Targets are fixed: nothing of the request picks the host.
 */
export class RouteTable {
  /** Longest prefix first, each with its target's path (without a trailing slash). */
  private readonly routes: { route: RouteConfig; targetPath: string }[];

  constructor(routes: RouteConfig[]) {
    this.routes = [...routes]
      .sort((a, b) => b.prefix.length - a.prefix.length)
      .map((route) => ({ route, targetPath: new URL(route.target).pathname.replace(/\/$/, '') }));
  }

  /** `path` is the normalised request path (http/request-path.ts), `query` is '' or `?...`. */
  match(path: string, query = ''): RouteMatch | undefined {
    for (const { route, targetPath } of this.routes) {
      const rest = matchPrefix(route.prefix, path);
      if (rest === undefined) continue;
      const upstreamPath = `${targetPath}${rest}` || '/';
      return { route, upstreamUrl: `${upstreamPath}${query}` };
    }
    return undefined;
  }
}

/** The remainder after `prefix` when it matches whole segments ('' or '/...'), else undefined. */
function matchPrefix(prefix: string, path: string): string | undefined {
  if (prefix === '/') return path;
  if (path === prefix) return '';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
}
