import type { ServerResponse } from 'node:http';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { GatewayError } from '../errors.js';
import { Forwarder, type ForwardDeps } from './forward.js';

export interface Forwarders {
  routes: ReadonlyMap<RouteConfig, Forwarder>;
  /** FRONTEND_URL's dev server, when configured. */
  frontend: Forwarder | undefined;
}

/**
 * One forwarder per route, sharing the keep-alive pools; plus FRONTEND_URL's dev server, forwarded like
 * a `token: none` route whose answers get nothing from the gateway (no security headers: the dev
 * server's own scripts must run).
 */
export function createForwarders(
  config: Pick<GatewayConfig, 'routes' | 'frontend'>,
  deps: Omit<ForwardDeps, 'securityHeaders' | 'writeError'> & {
    writeError: (res: ServerResponse, err: GatewayError) => void;
  },
  securityHeaders: string[],
): Forwarders {
  const routes = new Map(
    config.routes.map((route) => [route, new Forwarder(route, { ...deps, securityHeaders })]),
  );
  const frontend = config.frontend.url
    ? new Forwarder(
        {
          prefix: '/',
          target: config.frontend.url,
          token: 'none',
          scopes: [],
          csrf: false,
          methods: undefined,
          websocket: true,
          timeoutMs: 30_000,
        },
        { ...deps, securityHeaders: [] },
      )
    : undefined;
  return { routes, frontend };
}
