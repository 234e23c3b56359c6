import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { RouteConfig } from '../config/types.js';
import { BadGatewayError, GatewayTimeoutError, StepUpRequiredError, type GatewayError } from '../errors.js';
import { describeError, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { isUseDpopNonce, type DpopBinding } from './dpop-proof.js';
import { stepUpLoginUrl } from './route-policy.js';
import { findStepUpChallenge } from './step-up-challenge.js';
import { downstreamResponseHeaders, type Framing } from './upstream-headers.js';

/** Keep-alive connection pools to upstreams, shared by every route. */
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
  gatewayCookies: readonly string[];
  /** Security headers added to answers that do not set their own (http/security-headers.ts). */
  securityHeaders: readonly string[];
  logger: Logger;
  /** Writes a contract error on a response whose head is not sent yet (http/error-handler.ts). */
  writeError: (res: ServerResponse, err: GatewayError) => void;
  /** Writes a contract error on a socket that asked for an upgrade. */
  refuseUpgrade: (socket: Duplex, err: GatewayError) => void;
}

/**
 * One route's forwarder: exactly one upstream request per browser request, on a pooled keep-alive
 * connection, with the body framed by the gateway (never copied framing) and streamed both ways
 * unbuffered. The route's timeout covers the wait for the upstream's response headers only, never a live
 * stream (server-sent events may stay open). When the browser goes away, the upstream request is aborted
 * at once; when the upstream dies mid-body, the browser's answer is cut so it sees a failure.
 */
export class Forwarder {
  readonly upstreamHost: string;
  /** The upstream's origin: DPoP proofs' `htu` starts with it, and its nonces are kept by it. */
  private readonly origin: string;
  private readonly client: typeof http | typeof https;
  private readonly base: http.RequestOptions;
  /** A user or optional route: its answers are private, and its upstream may ask for a step-up. */
  private readonly userRoute: boolean;
  private readonly durationByStatus = new Map<number, (seconds: number) => void>();

  constructor(
    private readonly route: RouteConfig,
    private readonly deps: ForwardDeps,
  ) {
    const target = new URL(route.target);
    const secure = target.protocol === 'https:';
    this.client = secure ? https : http;
    this.upstreamHost = target.host;
    this.origin = target.origin;
    this.base = {
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || (secure ? 443 : 80),
      agent: secure ? deps.agents.https : deps.agents.http,
      setHost: false,
    };
    this.userRoute = route.token === 'user' || route.token === 'optional';
  }

  /**
   * Sends `req` (headers already built) to `path` upstream and streams the answer into `res`. With a
   * DPoP binding (OIDC_DPOP), a fresh proof is added; an upstream's `use_dpop_nonce` challenge on a
   * request without a body is answered once with its nonce (with a body, which is streamed and gone,
   * the 401 reaches the browser and the next request carries the nonce).
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    headers: string[],
    framing: Framing,
    dpop?: DpopBinding,
    retried = false,
  ): void {
    const started = performance.now();
    const sent = dpop === undefined ? headers : this.withProof(headers, dpop, req.method ?? 'GET', path);
    const upstream = this.client.request({ ...this.base, method: req.method, path, headers: sent });
    if (req.socket.destroyed) {
      // The browser left before we got here ('close' already fired): never leave a pooled request open.
      upstream.destroy();
      return;
    }
    const timeout = this.answerTimeout(upstream);
    let clientGone = false;

    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      timeout.clear();
      upstream.destroy();
    });
    upstream.once('response', (answer: IncomingMessage) => {
      timeout.clear();
      this.observe(answer.statusCode ?? 502, started);
      if (clientGone) return void answer.destroy();
      if (dpop !== undefined && this.nonceChallenge(answer, dpop) && !retried && framing.kind === 'none') {
        answer.resume();
        return this.forward(req, res, path, headers, framing, dpop, true);
      }
      const stepUp = answer.statusCode === 401 ? this.stepUp(answer) : undefined;
      if (stepUp !== undefined) return void this.deps.writeError(res, stepUp);
      res.writeHead(
        answer.statusCode ?? 502,
        downstreamResponseHeaders(answer.rawHeaders, {
          gatewayCookies: this.deps.gatewayCookies,
          privateByDefault: this.userRoute,
          defaults: this.deps.securityHeaders,
        }),
      );
      // An upstream that dies mid-body: cut the browser's answer too (a short body must not look whole).
      answer.once('close', () => {
        if (!answer.complete) res.destroy();
      });
      answer.pipe(res);
    });
    upstream.once('error', (err: Error) => {
      timeout.clear();
      if (clientGone) return;
      this.observe(timeout.fired ? 504 : 502, started);
      this.deps.logger.warn(
        { route: this.route.prefix, timedOut: timeout.fired, err: describeError(err) },
        'upstream request failed',
      );
      if (res.headersSent) res.destroy();
      else this.deps.writeError(res, timeout.fired ? new GatewayTimeoutError() : new BadGatewayError());
    });

    if (framing.kind === 'none') upstream.end();
    else req.pipe(upstream);
  }

  /**
   * A WebSocket handshake: a fresh (unpooled) connection; the upstream's 101 is relayed with
   * `Connection: Upgrade` exactly and the two sockets are joined; any other answer is relayed as an HTTP
   * error and the socket closed, so the browser never gets a 101 the upstream did not give.
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: string,
    headers: string[],
    dpop?: DpopBinding,
    retried = false,
  ): void {
    const sent = dpop === undefined ? headers : this.withProof(headers, dpop, 'GET', path);
    const upstream = this.client.request({ ...this.base, agent: false, method: 'GET', path, headers: sent });
    const timeout = this.answerTimeout(upstream);
    socket.once('close', () => {
      timeout.clear();
      upstream.destroy();
    });
    upstream.once('upgrade', (answer: IncomingMessage, upstreamSocket: Duplex, upstreamHead: Buffer) => {
      timeout.clear();
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${this.relayedHead(answer)}\r\n`,
      );
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.on('error', () => socket.destroy());
      upstreamSocket.once('close', () => socket.destroy());
      socket.once('close', () => upstreamSocket.destroy());
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
    });
    upstream.once('response', (answer: IncomingMessage) => {
      timeout.clear();
      const status = answer.statusCode ?? 502;
      // A handshake has no body: an upstream's nonce challenge is answered once, on a new connection.
      if (dpop !== undefined && this.nonceChallenge(answer, dpop) && !retried && !socket.destroyed) {
        // This attempt is over: its errors (the destroyed connection's) must not answer the browser.
        upstream.removeAllListeners('error');
        upstream.on('error', () => undefined);
        upstream.destroy();
        return this.upgrade(req, socket, head, path, headers, dpop, true);
      }
      const stepUp = status === 401 ? this.stepUp(answer) : undefined;
      if (stepUp !== undefined) return void this.deps.refuseUpgrade(socket, stepUp);
      // The refusal's body is relayed until the upstream ends; the connection then closes.
      socket.write(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n${this.relayedHead(answer)}Connection: close\r\n\r\n`,
      );
      answer.pipe(socket);
    });
    upstream.once('error', (err: Error) => {
      timeout.clear();
      if (socket.destroyed) return;
      this.deps.logger.warn(
        { route: this.route.prefix, timedOut: timeout.fired, websocket: true, err: describeError(err) },
        'upstream request failed',
      );
      this.deps.refuseUpgrade(socket, timeout.fired ? new GatewayTimeoutError() : new BadGatewayError());
    });
    upstream.end();
  }

  /**
   * RFC 9470: the upstream's 401 `insufficient_user_authentication` challenge becomes the gateway's own
   * 401 `step_up_required` (its headers are not relayed), on routes that carry the user's token; the
   * upstream's body is read to its end so the pooled connection stays usable. Without a usable
   * `acr_values` or `max_age`, the step-up is a fresh sign-in (`max_age=0`).
   */
  private stepUp(answer: IncomingMessage): StepUpRequiredError | undefined {
    const header = answer.headers['www-authenticate'];
    if (!this.userRoute || header === undefined) return undefined;
    const asked = findStepUpChallenge([header]);
    if (asked === undefined) return undefined;
    answer.resume();
    const maxAge = asked.maxAge ?? (asked.acr === undefined ? 0 : undefined);
    this.deps.logger.info(
      { route: this.route.prefix, acrValues: asked.acr, maxAge },
      'upstream asked for a step-up sign-in',
    );
    return new StepUpRequiredError(
      stepUpLoginUrl(asked.acr, maxAge === undefined ? undefined : maxAge * 1000),
    );
  }

  /** `headers` plus a fresh DPoP proof for this request (a copy: a retry signs another one). */
  private withProof(headers: string[], dpop: DpopBinding, method: string, path: string): string[] {
    return [...headers, 'DPoP', dpop.proofs.proof(dpop, method, this.origin, path)];
  }

  /**
   * Keeps an upstream's `DPoP-Nonce` (RFC 9449 §9: any answer may carry a new one) and tells whether
   * the answer is a 401 `use_dpop_nonce` challenge.
   */
  private nonceChallenge(answer: IncomingMessage, dpop: DpopBinding): boolean {
    const nonce = answer.headers['dpop-nonce'];
    if (typeof nonce === 'string' && nonce !== '') dpop.proofs.learnNonce(this.origin, nonce);
    return (
      answer.statusCode === 401 && isUseDpopNonce(answer.headers['www-authenticate']) && nonce !== undefined
    );
  }

  /** The route's timeout on the upstream's answer (its headers); `clear()` once they are in. */
  private answerTimeout(upstream: http.ClientRequest): { clear(): void; readonly fired: boolean } {
    let fired = false;
    const timer = setTimeout(() => {
      fired = true;
      upstream.destroy(new Error('upstream response timeout'));
    }, this.route.timeoutMs);
    return {
      clear: () => clearTimeout(timer),
      get fired() {
        return fired;
      },
    };
  }

  /** An upstream answer's header lines as relayed on a raw socket (WebSocket handshakes and refusals). */
  private relayedHead(answer: IncomingMessage): string {
    const flat = downstreamResponseHeaders(answer.rawHeaders, {
      gatewayCookies: this.deps.gatewayCookies,
      privateByDefault: false,
      defaults: [],
    });
    let out = '';
    for (let i = 0; i < flat.length; i += 2) out += `${flat[i]}: ${flat[i + 1]}\r\n`;
    return out;
  }

  /** Upstream latency by status; the labelled child is looked up once per status, not per request. */
  private observe(status: number, started: number): void {
    let record = this.durationByStatus.get(status);
    if (!record) {
      const child = this.deps.metrics.upstreamDuration.labels(this.route.prefix, String(status));
      record = (seconds) => child.observe(seconds);
      this.durationByStatus.set(status, record);
    }
    record((performance.now() - started) / 1000);
  }
}
