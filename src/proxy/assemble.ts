import type { RequestListener, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/types.js';
import type { GatewayError } from '../errors.js';
import { refuseUpgrade, toGatewayError, writeError } from '../http/error-handler.js';
import { securityHeaderList } from '../http/security-headers.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { requestObserver } from '../observability/request-observer.js';
import type { CookieRules } from '../session/cookie/cookie-rules.js';
import { createUpstreamAgents } from './forward.js';
import { createForwarders } from './forwarders.js';
import { frontDoor } from './front-door.js';
import { RouteTable } from './route-table.js';
import type { UpstreamDpop } from './dpop-proof.js';
import type { SessionSockets } from './session-sockets.js';
import type { UpstreamAccess } from './upstream-access.js';
import type { TrustFn } from './upstream-headers.js';

/** The sections the front door and the /api pipeline read. */
export type ApiConfig = Pick<
  GatewayConfig,
  'routes' | 'frontend' | 'publicUrl' | 'session' | 'oidc' | 'headers'
>;

/** The parts they use (built by gateway-parts.ts). */
export interface ApiParts {
  access: UpstreamAccess;
  sockets: SessionSockets;
  cookies: CookieRules;
  metrics: Metrics;
  logger: Logger;
  /** OIDC_DPOP's proofs to upstreams; undefined without it. */
  dpop?: UpstreamDpop | undefined;
}

export interface ApiWiring {
  /** Everything that is not a route: the Express app. */
  fallback: RequestListener;
  /** Express's compiled TRUST_PROXY (`app.get('trust proxy fn')`), so both sides trust the same hops. */
  trustProxy: TrustFn;
}

export interface AssembledFrontDoor {
  /** The server's `request` listener. */
  request: RequestListener;
  /** The server's `upgrade` listener. */
  upgrade: ReturnType<typeof frontDoor>['upgrade'];
  /** Drops the upstream keep-alive pools (after the server has closed). */
  close(): void;
}

/**
 * The one place the /api side is put together: route table, keep-alive pools, one forwarder per route
 * (and FRONTEND_URL's), the pipeline's dependencies and the front door in front of them. The steps
 * themselves live in api-pipeline.ts and steps.ts; this file only decides what each one is given.
 */
export function assembleFrontDoor(config: ApiConfig, parts: ApiParts, wiring: ApiWiring): AssembledFrontDoor {
  const { logger, metrics, cookies } = parts;
  const gatewayCookies = [config.session.cookieName, config.session.loginCookieName];
  const agents = createUpstreamAgents();
  const apiSecurityHeaders = securityHeaderList(config);
  // The front door's and the forwarders' own answers (400, 401, 502, ...) carry the security headers too.
  const writeApiError = (res: ServerResponse, err: GatewayError) => {
    for (let i = 0; i < apiSecurityHeaders.length; i += 2)
      res.setHeader(apiSecurityHeaders[i]!, apiSecurityHeaders[i + 1]!);
    writeError(res, err, cookies);
  };
  const { routes: forwarders, frontend } = createForwarders(
    config,
    { metrics, agents, gatewayCookies, logger, writeError: writeApiError, refuseUpgrade },
    apiSecurityHeaders,
  );
  const publicUrl = new URL(config.publicUrl);
  const door = frontDoor({
    table: new RouteTable(config.routes),
    api: {
      access: parts.access,
      forwarders,
      sockets: parts.sockets,
      gatewayCookies,
      trustProxy: wiring.trustProxy,
      publicOrigin: publicUrl.origin,
      publicHost: publicUrl.host,
      dpop: parts.dpop,
    },
    fallback: wiring.fallback,
    frontend,
    observe: requestObserver(logger, metrics),
    toGatewayError: (err, context) => toGatewayError(err, logger, metrics, context),
    writeError: writeApiError,
    refuseUpgrade,
  });
  return {
    request: door.request,
    upgrade: door.upgrade,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
