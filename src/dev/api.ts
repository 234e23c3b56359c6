/**
 * A demo API: a resource server that trusts nothing but a valid access token for ITS audience.
 *
 * Every request needs `Authorization: Bearer <JWT>` (or `DPoP <JWT>` with a DPoP proof, for a token
 * bound to a key: `cnf.jkt`), verified with jose against the IdP's JWKS (found through discovery):
 * signature (RS256), `typ: at+jwt`, issuer, audience, expiry, and the proof (resource-checks.ts); then
 * a scope per endpoint (api-routes.ts: the orders API and the billing API):
 *
 *   GET  /orders    needs api:read   (alice and bob)   -> the user's orders and the token's claims
 *   POST /orders    needs api:write  (alice only)      -> 201 with the new order and the claims
 *   GET  /invoices  needs api:read   (billing API)     -> the user's invoices
 *   GET  /token     needs api:read                     -> which token this API received (claims only)
 *   GET  /healthz   no token                           -> 200
 *
 * 401 with `WWW-Authenticate: Bearer error="invalid_token"` (DPoP: `DPoP error=…`) for a bad token or
 * proof, 403 with `error="insufficient_scope"` for a missing scope. It logs the subject and client id,
 * never the token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { endpointsFor, HttpError, send, type DemoApiName, type Received } from './api-routes.js';
import type { DemoLog } from './log.js';
import { Refusal, verifyProof } from './resource-checks.js';
import { closeNow, listen } from './ports.js';

export interface DemoApiOptions {
  host: string;
  port: number;
  /** The IdP's issuer: its discovery document names the JWKS, and tokens must carry it as `iss`. */
  issuer: string;
  /** The `aud` this API accepts. */
  audience: string;
  /** Which API: its endpoints (api-routes.ts). Default orders. */
  api?: DemoApiName;
  /** Where the gateway reaches it (a DPoP proof's `htu` names it); default `http://<host>:<port>`. */
  publicOrigin?: string;
  log: DemoLog;
}

export interface DemoApi {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const MAX_BODY = 4096;

function quote(s: string): string {
  return s.replace(/["\\]/g, "'");
}

export async function startDemoApi(options: DemoApiOptions): Promise<DemoApi> {
  const { log, issuer, audience } = options;

  // The JWKS location comes from the IdP's discovery document, fetched at the first request that
  // needs it (the IdP may start after the API) and again after a failure.
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const jwks = (): Promise<ReturnType<typeof createRemoteJWKSet>> => {
    keys ??= (async () => {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const metadata = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (metadata.issuer !== issuer) throw new Error(`discovery names issuer ${String(metadata.issuer)}`);
      if (typeof metadata.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
      return createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 5000 });
    })();
    keys.catch(() => (keys = undefined));
    return keys;
  };

  const routes = endpointsFor(options.api ?? 'orders', MAX_BODY);
  let origin = options.publicOrigin ?? '';

  async function verify(req: IncomingMessage): Promise<Received> {
    const header = req.headers.authorization ?? '';
    const match = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (!match?.[2]) {
      // RFC 6750 3.1: no error code when the request carries no credentials at all.
      throw new HttpError(401, { error: 'unauthenticated', message: 'a bearer token is required' }, 'Bearer');
    }
    let keySet: ReturnType<typeof createRemoteJWKSet>;
    try {
      keySet = await jwks();
    } catch (err) {
      throw new HttpError(503, {
        error: 'temporarily_unavailable',
        message: `cannot load the IdP's keys: ${(err as Error).message}`,
      });
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[2], keySet, {
        issuer,
        audience,
        typ: 'at+jwt',
        algorithms: ['RS256'],
        clockTolerance: 5,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
      }));
    } catch (err) {
      // Not a verdict on the token: the keys could not be fetched.
      if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
        throw new HttpError(503, { error: 'temporarily_unavailable', message: "cannot load the IdP's keys" });
      }
      const reason =
        err instanceof joseErrors.JWTExpired
          ? 'the access token expired'
          : err instanceof joseErrors.JWTClaimValidationFailed
            ? `claim ${err.claim} is not acceptable (${err.reason})`
            : err instanceof joseErrors.JWSSignatureVerificationFailed
              ? 'the signature does not verify'
              : 'the access token is malformed or not signed by the IdP';
      throw new HttpError(
        401,
        { error: 'invalid_token', message: reason },
        `Bearer error="invalid_token", error_description="${quote(reason)}"`,
      );
    }
    const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    await checkBinding(req, scheme, match[2], payload);
    return { claims: payload, scheme };
  }

  // RFC 9449 §7: a token bound to a key (cnf.jkt) comes as `DPoP` with a proof by that key.
  const seen = new Map<string, number>();
  async function checkBinding(
    req: IncomingMessage,
    scheme: 'Bearer' | 'DPoP',
    token: string,
    claims: JWTPayload,
  ): Promise<void> {
    const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
    try {
      if (scheme === 'Bearer' && jkt === undefined) return;
      if (scheme === 'Bearer') throw new Refusal('invalid_token', 'DPoP-bound token sent as Bearer');
      if (typeof jkt !== 'string') throw new Refusal('invalid_token', 'DPoP scheme with an unbound token');
      const proof = req.headers.dpop;
      if (typeof proof !== 'string') throw new Refusal('invalid_dpop_proof', 'no DPoP proof');
      const path = new URL(req.url ?? '/', 'http://api.invalid').pathname;
      await verifyProof(proof, {
        method: req.method ?? 'GET',
        url: `${origin}${path}`,
        token,
        jkt,
        maxAgeSeconds: 60,
        nonce: undefined,
        remember: (jti) => {
          const now = Date.now();
          for (const [k, at] of seen) if (now - at > 120_000) seen.delete(k);
          if (seen.has(jti)) return false;
          seen.set(jti, now);
          return true;
        },
      });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      throw new HttpError(
        401,
        { error: err.error, message: err.reason },
        `${scheme} error="${err.error}", error_description="${quote(err.reason)}"`,
      );
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://api.invalid').pathname.replace(/\/+$/, '') || '/';
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    if (path === '/healthz') return send(res, 200, { ok: true });
    const endpoint = routes[`${method} ${path}`];
    if (!endpoint) {
      const known = Object.keys(routes).some((k) => k.endsWith(` ${path}`));
      return known
        ? send(res, 405, { error: 'method_not_allowed', message: `${method} ${path} is not supported` })
        : send(res, 404, { error: 'not_found', message: `no endpoint ${path}` });
    }
    const token = await verify(req);
    const { claims } = token;
    const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!granted.includes(endpoint.scope)) {
      log.info(`${method} ${path} 403 insufficient_scope`, {
        sub: claims.sub,
        client_id: claims.client_id,
        needs: endpoint.scope,
        has: claims.scope,
      });
      throw new HttpError(
        403,
        { error: 'insufficient_scope', message: `this needs scope ${endpoint.scope}`, scope: endpoint.scope },
        `Bearer error="insufficient_scope", scope="${endpoint.scope}"`,
      );
    }
    await endpoint.handle(token, req, res);
    log.info(`${method} ${path} ${res.statusCode}`, {
      sub: claims.sub,
      client_id: claims.client_id,
      jti: claims.jti,
      exp_in: typeof claims.exp === 'number' ? `${claims.exp - Math.floor(Date.now() / 1000)}s` : undefined,
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) {
        if (err.status !== 403)
          log.info(`${req.method} ${req.url?.split('?')[0]} ${err.status} ${String(err.body.error)}`, {
            reason: err.message,
          });
        send(res, err.status, err.body, err.challenge ? { 'www-authenticate': err.challenge } : {});
        return;
      }
      log.error('demo API error', { error: (err as Error).message });
      send(res, 500, { error: 'server_error', message: 'unexpected error' });
    });
  });
  await listen(server, options.host, options.port, 'DEMO_API_PORT');
  const port = (server.address() as AddressInfo).port;
  origin = options.publicOrigin ?? `http://${options.host}:${port}`;

  let stopped = false;
  return {
    url: `http://${options.host}:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await closeNow(server);
    },
  };
}
