import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Request, Response } from 'express';
import { createProxyMiddleware, type RequestHandler as ProxyHandler } from 'http-proxy-middleware';
import type { RouteConfig } from '../config/types.js';
import { BadGatewayError, GatewayTimeoutError } from '../http/errors.js';
import { describeError, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { dropGatewaySetCookies } from './upstream-headers.js';

/**
 * Keep-alive connection pools to upstreams, shared by every route. (http-proxy's default opens a new
 * TCP connection per request.)
 */
export function createUpstreamAgents(): { http: http.Agent; https: https.Agent } {
  const options = {
    keepAlive: true,
    keepAliveMsecs: 1_000,
    maxSockets: 256,
    maxFreeSockets: 64,
    scheduling: 'lifo' as const,
  };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

export interface ForwardDeps {
  metrics: Metrics;
  agents: { http: http.Agent; https: https.Agent };
  gatewayCookies: string[];
  logger: Logger;
  /** Writes a contract error (http/error-handler.ts `writeError`). */
  writeError: (res: Response, err: BadGatewayError | GatewayTimeoutError) => void;
}

const TIMED_OUT = Symbol('upstream timed out');
const STARTED = Symbol('upstream request started');
type TimedRequest = http.IncomingMessage & { [TIMED_OUT]?: boolean; [STARTED]?: bigint };

function secondsSince(start: bigint | undefined): number {
  return start === undefined ? 0 : Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * The last step of the /api pipeline: streams the request to the route's upstream and the answer back,
 * unbuffered both ways. `req.url` must already be the upstream path and `req.headers` the upstream
 * headers. The route's timeout covers waiting for the upstream's response headers, never a live
 * stream (a server-sent event stream may stay open as long as it likes).
 */
export function createForwarder(route: RouteConfig, deps: ForwardDeps): ProxyHandler<Request, Response> {
  const target = new URL(route.target);
  return createProxyMiddleware<Request, Response>({
    target: target.origin,
    changeOrigin: true,
    xfwd: false,
    ws: false,
    agent: target.protocol === 'https:' ? deps.agents.https : deps.agents.http,
    on: {
      proxyReq: (proxyReq, req) => {
        (req as TimedRequest)[STARTED] = process.hrtime.bigint();
        const timer = setTimeout(() => {
          (req as TimedRequest)[TIMED_OUT] = true;
          proxyReq.destroy(new Error('upstream response timeout'));
        }, route.timeoutMs);
        proxyReq.once('response', () => clearTimeout(timer));
        proxyReq.once('close', () => clearTimeout(timer));
      },
      proxyRes: (proxyRes, req, res) => {
        // An upstream that dies mid-body: cut the client's response too, so it sees a failure rather
        // than a short body or a response that never ends.
        proxyRes.once('close', () => {
          if (!proxyRes.complete) res.destroy();
        });
        deps.metrics.upstreamDuration.observe(
          { route: route.prefix, status: String(proxyRes.statusCode) },
          secondsSince((req as TimedRequest)[STARTED]),
        );
        dropGatewaySetCookies(proxyRes.headers, deps.gatewayCookies);
      },
      error: (err, req, res) => {
        const timedOut = (req as TimedRequest)[TIMED_OUT] === true;
        deps.metrics.upstreamDuration.observe(
          { route: route.prefix, status: timedOut ? '504' : '502' },
          secondsSince((req as TimedRequest)[STARTED]),
        );
        deps.logger.warn(
          { route: route.prefix, timedOut, err: describeError(err) },
          'upstream request failed',
        );
        if (!(res instanceof http.ServerResponse)) {
          (res as Socket).destroy();
          return;
        }
        if (res.headersSent) {
          // The answer was already streaming: cut it, so the client sees a failure rather than a short body.
          res.destroy();
          return;
        }
        deps.writeError(res as Response, timedOut ? new GatewayTimeoutError() : new BadGatewayError());
      },
    },
  });
}
