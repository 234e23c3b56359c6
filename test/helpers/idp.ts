/**
 * A real oidc-provider 9 over HTTP on 127.0.0.1, in-process, for tests.
 *
 *   const idp = await startIdp({ clients: [{ client_id: 'bff', client_secret: 's', … }] });
 *   afterAll(async () => { await idp?.stop(); });
 *
 * It is the demo's IdP (src/dev/idp.ts: one oidc-provider setup, one account table), with the tests'
 * knobs and observers: counts, events, a down, hung, slow or hostile IdP.
 *
 * Login is driven with devInteractions (see login.ts): any login id is accepted with any password.
 * The accounts are the demo's (src/dev/settings.ts): alice ("Alice Liddell", alice@example.com) and
 * bob ("Bob Builder", bob@example.com); any other id gets `{ name: 'User <id>', email: '<id>@example.com' }`.
 *
 * Signing keys come from a generated RSA key (no dev keystore) and storage from a small in-memory
 * adapter (no dev adapter), so the provider's dev-key / dev-adapter warnings do not appear. What
 * stays: "Unsupported runtime" on Node 20 (printed when the module loads) and the devInteractions
 * warning (printed by the feature itself; it cannot be turned off without disabling the feature).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { startIdpServer } from '../../src/dev/idp.js';
import {
  DEFAULT_CLIENT,
  type IdpClient,
  type IdpEvent,
  type ResponseRewrite,
  type StartIdpOptions,
  type TestIdp,
  type TokenAnswer,
} from './idp-types.js';
import { countGrants, emptyCounts, recordEvents, recordIssued, zeroCounts } from './idp-events.js';
import { TOKEN_EXCHANGE, type ExchangeRequest, type IssuedToken } from './idp-types.js';

export * from './idp-types.js';

// One RSA key per test process: generating it costs ~50-150 ms.
let signingKey: Promise<JWK> | undefined;
/** The IdP's private signing key (JWK, kid `test-rs256`), for tests that craft tokens the IdP would sign. */
export function getSigningKey(): Promise<JWK> {
  signingKey ??= (async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    return { ...jwk, kid: 'test-rs256', alg: 'RS256', use: 'sig' };
  })();
  return signingKey;
}

export async function startIdp(options: StartIdpOptions = {}): Promise<TestIdp> {
  const clientCredentials = options.clientCredentials ?? true;
  const backchannelLogout = options.backchannelLogout ?? true;
  const registered = new Map<string, IdpClient>();

  const counts = emptyCounts();
  const events: IdpEvent[] = [];
  const lastAuthorizationRequests: URLSearchParams[] = [];
  const tokenRequestAuth: Array<'basic' | 'body'> = [];
  const basicUsers: string[] = [];
  const clientAssertions: Array<{ path: string; assertion: string }> = [];
  const revokedTokens: string[] = [];
  const issued: IssuedToken[] = [];
  let exchangePolicy: ((request: ExchangeRequest) => string | undefined) | undefined;
  let dpopNonce = options.dpopNonce ?? false;
  const tokenExchange = options.tokenExchange ?? true;
  let down = false;
  let hanging = false;
  let tokenAnswer: TokenAnswer | undefined;
  let tokenDelayMs = 0;
  let tokenGate: Array<() => void> | undefined;
  const answeredTokenRequests: URLSearchParams[] = [];
  let rewrite: ResponseRewrite | undefined = options.rewriteResponses;
  const held = new Set<IncomingMessage>();
  const sockets = new Set<Socket>();

  // Sees every request before the provider: a down, hung, slow or hostile IdP.
  const intercept = (req: IncomingMessage, res: ServerResponse, pass: () => void): void => {
    if (down) return void req.socket.resetAndDestroy();
    if (hanging) return void held.add(req);
    const u = new URL(req.url ?? '/', 'http://idp.invalid');
    if (u.pathname === '/auth' && req.method === 'GET') {
      lastAuthorizationRequests.push(new URLSearchParams(u.search));
    }
    if (u.pathname === '/token' && req.method === 'POST') {
      if (tokenAnswer) return answerToken(req, res, tokenAnswer);
      if (tokenGate) return void tokenGate.push(pass);
      if (tokenDelayMs > 0) return void setTimeout(pass, tokenDelayMs);
    }
    pass();
  };
  const answerToken = (req: IncomingMessage, res: ServerResponse, answer: TokenAnswer): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answeredTokenRequests.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  };

  function clientMetadata(c: IdpClient): Record<string, unknown> {
    const grantTypes = c.grant_types ?? [
      'authorization_code',
      'refresh_token',
      ...(clientCredentials ? ['client_credentials'] : []),
      ...(tokenExchange ? [TOKEN_EXCHANGE] : []),
    ];
    const meta: Record<string, unknown> = {
      client_id: c.client_id,
      client_secret: c.client_secret,
      token_endpoint_auth_method: c.token_endpoint_auth_method,
      redirect_uris: c.redirect_uris,
      post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
      response_types: ['code'],
      grant_types: grantTypes,
    };
    if (c.scope !== undefined) meta.scope = c.scope;
    if (c.jwks !== undefined) meta.jwks = c.jwks;
    if (c.dpop_bound_access_tokens !== undefined) meta.dpop_bound_access_tokens = c.dpop_bound_access_tokens;
    if (backchannelLogout && c.backchannel_logout_uri !== undefined) {
      meta.backchannel_logout_uri = c.backchannel_logout_uri;
      meta.backchannel_logout_session_required = c.backchannel_logout_session_required ?? true;
    }
    return meta;
  }

  const clients = options.clients ?? [DEFAULT_CLIENT];
  for (const c of clients) registered.set(c.client_id, c);

  // The demo's oidc-provider setup and accounts (src/dev/idp.ts), with the tests' knobs.
  const idp = await startIdpServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    clients: clients.map(clientMetadata),
    accessTokenTtl: options.accessTokenTtl ?? 60,
    refreshTokenTtl: options.refreshTokenTtl ?? 86_400,
    rotateRefreshToken: options.rotateRefreshToken ?? true,
    ...(options.jwtAccessTokens ? { apiAudience: options.jwtAccessTokens.audience } : {}),
    ...(options.resources ? { resources: options.resources } : {}),
    exchangePolicy: (request) => exchangePolicy?.(request),
    dpop: options.dpop ?? true,
    dpopNonce: () => dpopNonce,
    claimsIn: 'userinfo',
    revocation: options.revocation ?? true,
    introspection: options.introspection ?? true,
    clientCredentials,
    backchannelLogout,
    requirePushedAuthorizationRequests: options.requirePar ?? false,
    signingKey: await getSigningKey(),
    intercept,
    portVariable: 'the test IdP port',
  });
  const { issuer, port, provider, server, store } = idp;
  server.on('connection', (socket: Socket) => {
    if (down) return void socket.resetAndDestroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const ROUTE_COUNTERS: Record<string, 'revocations' | 'introspections' | 'userinfo' | 'discovery'> = {
    '/token/revocation': 'revocations',
    '/token/introspection': 'introspections',
    '/me': 'userinfo',
    '/.well-known/openid-configuration': 'discovery',
  };
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token') {
      tokenRequestAuth.push(ctx.get('authorization').startsWith('Basic ') ? 'basic' : 'body');
    }
    const authorization = ctx.get('authorization');
    if (authorization.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
      basicUsers.push(decoded.slice(0, decoded.indexOf(':')));
    }

    await next();
    // The form body as oidc-provider parsed it.
    const form = (ctx as { oidc?: { body?: Record<string, unknown> } }).oidc?.body;
    if (typeof form?.client_assertion === 'string') {
      clientAssertions.push({ path: ctx.path, assertion: form.client_assertion });
    }
    const body: unknown = ctx.body;
    if (
      rewrite &&
      ctx.status === 200 &&
      typeof body === 'object' &&
      body !== null &&
      !Buffer.isBuffer(body)
    ) {
      ctx.body = await rewrite(ctx.path, body as Record<string, unknown>);
    }
    recordIssued(ctx as KoaContextWithOIDC, counts, issued);
    const counter = ROUTE_COUNTERS[ctx.path];
    if (counter && ctx.status === 200) counts[counter] += 1;
    const revoked = (ctx as KoaContextWithOIDC).oidc?.params?.token;
    if (ctx.path === '/token/revocation' && ctx.status === 200 && typeof revoked === 'string')
      revokedTokens.push(revoked);
  });

  recordEvents(provider, counts, events);

  const stop = idp.stop;

  const introspect = async (
    token: string,
    clientId: string,
    clientSecret: string,
  ): Promise<Record<string, unknown>> => {
    const body = new URLSearchParams({ token });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (registered.get(clientId)?.token_endpoint_auth_method === 'client_secret_post') {
      body.set('client_id', clientId);
      body.set('client_secret', clientSecret);
    } else {
      // RFC 6749 2.3.1: form-urlencode id and secret before base64.
      const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
    }
    const res = await fetch(`${issuer}/token/introspection`, { method: 'POST', headers, body });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  return {
    issuer,
    port,
    provider,
    url: (path: string) => `${issuer}${path.startsWith('/') ? '' : '/'}${path}`,
    stop,
    counts,
    events,
    lastAuthorizationRequests,
    tokenRequestAuth,
    basicUsers,
    clientAssertions,
    revokedTokens,
    resetCounts: () => {
      zeroCounts(counts);
      for (const list of [events, lastAuthorizationRequests, tokenRequestAuth, basicUsers, issued])
        list.length = 0;
      for (const list of [clientAssertions, revokedTokens, answeredTokenRequests]) list.length = 0;
    },
    introspect,
    setDown: (value: boolean) => {
      down = value;
      if (value) {
        for (const socket of sockets) socket.resetAndDestroy();
        sockets.clear();
      }
    },
    setHanging: (value: boolean) => {
      hanging = value;
      if (!value) {
        for (const req of held) req.socket.destroy();
        held.clear();
      }
    },
    heldRequests: () => held.size,
    setTokenAnswer: (answer: TokenAnswer | undefined) => {
      tokenAnswer = answer;
    },
    answeredTokenRequests,
    setTokenDelay: (ms: number) => {
      tokenDelayMs = ms;
    },
    holdTokenRequests: () => {
      const gate: Array<() => void> = [];
      tokenGate = gate;
      return {
        held: () => gate.length,
        release: () => {
          if (tokenGate === gate) tokenGate = undefined;
          for (const pass of gate.splice(0)) pass();
        },
      };
    },
    rewriteResponses: (fn: ResponseRewrite | undefined) => {
      rewrite = fn;
    },
    issued,
    grantCount: (grantType: string, resource?: string) => countGrants(issued, grantType, resource),
    setExchangePolicy: (policy) => {
      exchangePolicy = policy;
    },
    setDpopNonce: (required: boolean) => {
      dpopNonce = required;
    },
    addClient: (c: IdpClient) => {
      registered.set(c.client_id, c);
      const meta = clientMetadata(c);
      store.entries.set(`Client:${c.client_id}`, { payload: meta, expiresAt: undefined });
    },
  };
}
