/**
 * A real upstream that verifies what it gets like a resource server (checks in src/dev/resource-checks.ts):
 * a JWT access token from the IdP, for ITS audience (a token for API A sent to B is refused), and for
 * DPoP-bound tokens the DPoP proof. It can demand a nonce. HTTP and WebSocket upgrades; records everything.
 *
 *   const api = await startVerifyingUpstream({ issuer: idp.issuer, audience: 'https://orders.example' });
 *   // route target: api.url ; after the test: api.received, api.accepted(), api.refused()
 *
 * Answers: 200 JSON `{ sub, aud, scope, jkt, scheme, method, path }`; 401 with
 * `WWW-Authenticate: Bearer|DPoP error="…", error_description="<reason>"` (and `DPoP-Nonce` for use_dpop_nonce).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createRemoteJWKSet } from 'jose';
import { WebSocketServer } from 'ws';
import { Refusal, verifyAccessToken, verifyProof } from '../../src/dev/resource-checks.js';

export interface VerifyingUpstreamOptions {
  issuer: string;
  /** This API's audience: tokens whose `aud` does not name it are refused. */
  audience: string;
  /** Default `${issuer}/jwks`. */
  jwksUrl?: string;
  /** The origin the gateway reaches this upstream at (what `htu` must name); default its own http://127.0.0.1:PORT. */
  publicOrigin?: string;
  /** Demand a nonce in every DPoP proof from the start. Default false. */
  requireNonce?: boolean;
  /** Seconds either side of now a proof's `iat` may be. Default 60. */
  maxProofAgeSeconds?: number;
}

export interface Received {
  method: string;
  path: string;
  upgrade: boolean;
  scheme: 'Bearer' | 'DPoP' | undefined;
  token: string | undefined;
  proof: string | undefined;
  status: 200 | 400 | 401 | 101;
  /** Refusals: the challenge's error and the reason. */
  error?: string;
  reason?: string;
  /** Accepted: the token's claims. */
  sub?: string;
  aud?: string | string[];
  scope?: string;
  jkt?: string;
}

export interface VerifyingUpstream {
  url: string;
  port: number;
  audience: string;
  received: Received[];
  accepted(): Received[];
  refused(): Received[];
  /** The nonce the upstream currently demands (it changes on setRequireNonce and rotateNonce). */
  nonce(): string;
  setRequireNonce(required: boolean): void;
  rotateNonce(): void;
  reset(): void;
  stop(): Promise<void>;
}

function single(req: IncomingMessage, name: string): string | undefined | false {
  const all = req.headersDistinct[name];
  if (all === undefined) return undefined;
  return all.length === 1 ? all[0] : false;
}

export async function startVerifyingUpstream(options: VerifyingUpstreamOptions): Promise<VerifyingUpstream> {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl ?? `${options.issuer}/jwks`));
  const maxAge = options.maxProofAgeSeconds ?? 60;
  const seen = new Map<string, number>();
  const received: Received[] = [];
  let requireNonce = options.requireNonce ?? false;
  let nonce = randomBytes(16).toString('base64url');
  let origin = options.publicOrigin;

  const remember = (jti: string): boolean => {
    const now = Date.now();
    for (const [k, at] of seen) if (now - at > 2 * maxAge * 1000) seen.delete(k);
    if (seen.has(jti)) return false;
    seen.set(jti, now);
    return true;
  };

  const verify = async (req: IncomingMessage, record: Received): Promise<void> => {
    const authorization = single(req, 'authorization');
    if (authorization === false) throw new Refusal('invalid_request', 'several Authorization headers');
    const [scheme, token, extra] = (authorization ?? '').split(' ');
    if (authorization === undefined || token === undefined || extra !== undefined)
      throw new Refusal('invalid_token', 'no token');
    const lower = scheme?.toLowerCase();
    if (lower !== 'bearer' && lower !== 'dpop')
      throw new Refusal('invalid_token', `unknown scheme ${scheme}`);
    record.scheme = lower === 'dpop' ? 'DPoP' : 'Bearer';
    record.token = token;
    const claims = await verifyAccessToken(token, jwks, options.issuer, options.audience);
    const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (record.scheme === 'Bearer' && jkt !== undefined)
      throw new Refusal('invalid_token', 'DPoP-bound token sent as Bearer');
    if (record.scheme === 'DPoP') {
      if (typeof jkt !== 'string') throw new Refusal('invalid_token', 'DPoP scheme with an unbound token');
      const proof = single(req, 'dpop');
      if (proof === false) throw new Refusal('invalid_dpop_proof', 'several DPoP headers');
      if (proof === undefined) throw new Refusal('invalid_dpop_proof', 'no DPoP proof');
      record.proof = proof;
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      record.jkt = await verifyProof(proof, {
        method: req.method ?? 'GET',
        url: `${origin}${path}`,
        token,
        jkt,
        maxAgeSeconds: maxAge,
        nonce: requireNonce ? nonce : undefined,
        remember,
      });
    }
    record.sub = claims.sub;
    record.aud = claims.aud;
    record.scope = typeof claims.scope === 'string' ? claims.scope : undefined;
  };

  const challenge = (record: Received, err: Refusal): [number, Record<string, string>] => {
    record.status = err.error === 'invalid_request' ? 400 : 401;
    record.error = err.error;
    record.reason = err.reason;
    const dpop =
      record.scheme === 'DPoP' || err.error === 'invalid_dpop_proof' || err.error === 'use_dpop_nonce';
    const headers: Record<string, string> = {
      'www-authenticate': `${dpop ? 'DPoP' : 'Bearer'} error="${err.error}", error_description="${err.reason}"`,
      'content-type': 'application/json',
    };
    if (err.error === 'use_dpop_nonce') headers['dpop-nonce'] = nonce;
    return [record.status, headers];
  };

  const start = (req: IncomingMessage, upgrade: boolean): Received => {
    const record: Received = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      upgrade,
      scheme: undefined,
      token: undefined,
      proof: undefined,
      status: 200,
    };
    received.push(record);
    return record;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const record = start(req, false);
    req.resume();
    verify(req, record).then(
      () => {
        const { sub, aud, scope, jkt, scheme, method, path } = record;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sub, aud, scope, jkt, scheme, method, path }));
      },
      (err: unknown) => {
        if (!(err instanceof Refusal)) return void res.writeHead(500).end();
        const [status, headers] = challenge(record, err);
        res.writeHead(status, headers).end(JSON.stringify({ error: err.error }));
      },
    );
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const record = start(req, true);
    verify(req, record).then(
      () => {
        record.status = 101;
        wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
      },
      (err: unknown) => {
        const [status, headers] = err instanceof Refusal ? challenge(record, err) : [500, {}];
        const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
        socket.end(
          `HTTP/1.1 ${status} Refused\r\n${lines.join('')}connection: close\r\ncontent-length: 0\r\n\r\n`,
        );
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  origin ??= url;

  return {
    url,
    port,
    audience: options.audience,
    received,
    accepted: () => received.filter((r) => r.status === 200 || r.status === 101),
    refused: () => received.filter((r) => r.status !== 200 && r.status !== 101),
    nonce: () => nonce,
    setRequireNonce: (required: boolean) => {
      requireNonce = required;
      nonce = randomBytes(16).toString('base64url');
    },
    rotateNonce: () => {
      nonce = randomBytes(16).toString('base64url');
    },
    reset: () => {
      received.length = 0;
    },
    stop: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
