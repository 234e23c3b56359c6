/**
 * The demo API: a resource server that trusts nothing but a valid access token.
 *
 * Every request needs `Authorization: Bearer <JWT>`, verified with jose against the IdP's JWKS
 * (found through discovery): signature (RS256), `typ: at+jwt`, issuer, audience, expiry; then a scope
 * per endpoint:
 *
 *   GET  /orders   needs api:read   (alice and bob)   -> the user's orders and the token's claims
 *   POST /orders   needs api:write  (alice only)      -> 201 with the new order and the claims
 *   GET  /healthz  no token                           -> 200
 *
 * 401 with `WWW-Authenticate: Bearer error="invalid_token"` for a bad token, 403 with
 * `error="insufficient_scope"` for a missing scope. It logs the subject and client id, never the token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { DemoLog } from './log.js';
import { closeNow, listen } from './ports.js';

export interface DemoApiOptions {
  host: string;
  port: number;
  /** The IdP's issuer: its discovery document names the JWKS, and tokens must carry it as `iss`. */
  issuer: string;
  /** The `aud` this API accepts. */
  audience: string;
  log: DemoLog;
}

export interface DemoApi {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface Order {
  id: number;
  item: string;
  quantity: number;
  placedAt: string;
}

type Handler = (claims: JWTPayload, req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

interface Endpoint {
  scope: string;
  handle: Handler;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly challenge?: string,
  ) {
    super(String(body.message ?? body.error));
  }
}

const MAX_BODY = 4096;

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

function quote(s: string): string {
  return s.replace(/["\\]/g, "'");
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new HttpError(413, { error: 'too_large', message: `at most ${MAX_BODY} bytes` });
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    /* answered below */
  }
  throw new HttpError(400, { error: 'invalid_request', message: 'the body must be a JSON object' });
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

  const orders = new Map<string, Order[]>();
  const ordersOf = (sub: string): Order[] => {
    let list = orders.get(sub);
    if (!list) {
      list = [
        {
          id: 1,
          item: 'Earl Grey tea',
          quantity: 2,
          placedAt: new Date(Date.now() - 86_400_000).toISOString(),
        },
        { id: 2, item: 'Jam tarts', quantity: 12, placedAt: new Date(Date.now() - 3_600_000).toISOString() },
      ];
      orders.set(sub, list);
    }
    return list;
  };

  const routes: Record<string, Endpoint> = {
    'GET /orders': {
      scope: 'api:read',
      handle: (claims, _req, res) => send(res, 200, { orders: ordersOf(String(claims.sub)), claims }),
    },
    'POST /orders': {
      scope: 'api:write',
      handle: async (claims, req, res) => {
        const body = await readJson(req);
        const item =
          typeof body.item === 'string' && body.item.trim() !== '' ? body.item.trim().slice(0, 80) : 'Tea';
        const list = ordersOf(String(claims.sub));
        const order: Order = {
          id: list.reduce((max, o) => Math.max(max, o.id), 0) + 1,
          item,
          quantity: 1,
          placedAt: new Date().toISOString(),
        };
        list.push(order);
        send(res, 201, { order, claims });
      },
    },
  };

  async function verify(req: IncomingMessage): Promise<JWTPayload> {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (!match?.[1]) {
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
    try {
      const { payload } = await jwtVerify(match[1], keySet, {
        issuer,
        audience,
        typ: 'at+jwt',
        algorithms: ['RS256'],
        clockTolerance: 5,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
      });
      return payload;
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
    const claims = await verify(req);
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
    await endpoint.handle(claims, req, res);
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
