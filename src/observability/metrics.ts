import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type RefreshOutcome = 'ok' | 'shared' | 'grace' | 'terminal' | 'transient';
export type IdpOperation =
  | 'discovery'
  | 'pushed_authorization'
  | 'code_exchange'
  | 'userinfo'
  | 'refresh'
  | 'client_credentials'
  | 'audience_grant'
  | 'token_exchange'
  | 'revocation'
  | 'jwks';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The gateway's Prometheus metrics (served on METRICS_PORT only). Label values are bounded sets. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'bff_http_requests_total',
    help: 'Requests answered, by route (route prefix or endpoint), method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'bff_http_request_duration_seconds',
    help: 'Time to answer a request, by route and method.',
    labelNames: ['route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'bff_upstream_duration_seconds',
    help: 'Time until the upstream answered (response headers), by route and status (502/504 for failures).',
    labelNames: ['route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly refreshes = new Counter({
    name: 'bff_token_refresh_total',
    help: 'Access token refreshes by outcome: ok (this instance refreshed), shared (another request or instance did), grace (the spent token was seen again), terminal (session ended), transient (IdP unreachable, session kept).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly refreshLockWait = new Histogram({
    name: 'bff_refresh_lock_wait_seconds',
    help: "Time spent waiting for another instance's refresh of the same session.",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly idpDuration = new Histogram({
    name: 'bff_idp_request_duration_seconds',
    help: 'Calls to the OpenID Provider by operation and outcome (ok, refused, unreachable).',
    labelNames: ['operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly idpErrors = new Counter({
    name: 'bff_idp_errors_total',
    help: 'Failed calls to the OpenID Provider by operation.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'bff_session_store_errors_total',
    help: 'Requests refused because the session store did not answer.',
    registers: [this.registry],
  });
  readonly logins = new Counter({
    name: 'bff_logins_total',
    help: 'Completed login callbacks by outcome (ok or the error code).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly logouts = new Counter({
    name: 'bff_logouts_total',
    help: 'Sessions ended by kind: rp (POST /auth/logout), backchannel, refresh (the IdP refused a refresh).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly websockets: Gauge;

  constructor(openWebSockets: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'bff_' });
    this.websockets = new Gauge({
      name: 'bff_websockets_open',
      help: 'WebSockets open through the gateway.',
      registers: [this.registry],
      collect() {
        this.set(openWebSockets());
      },
    });
  }
}
