/**
 * A real oidc-provider 9 over HTTP on 127.0.0.1, in-process, for tests.
 *
 *   const idp = await startIdp({ clients: [{ client_id: 'bff', client_secret: 's', … }] });
 *   afterAll(async () => { await idp?.stop(); });
 *
 * Login is driven with devInteractions (see login.ts): any login id is accepted with any password.
 * Known accounts: alice ("Alice Liddell", alice@example.com) and bob ("Bob Builder", bob@example.com);
 * any other id gets `{ name: 'User <id>', email: '<id>@example.com' }`.
 *
 * Signing keys come from a generated RSA key (no dev keystore) and storage from a small in-memory
 * adapter (no dev adapter), so the provider's dev-key / dev-adapter warnings do not appear. What
 * stays: "Unsupported runtime" on Node 20 (printed when the module loads) and the devInteractions
 * warning (printed by the feature itself; it cannot be turned off without disabling the feature).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  Provider,
  errors,
  type Account,
  type ClientLike,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { OidcMemoryStore } from '../../src/dev/oidc-memory-store.js';

export interface IdpClient {
  client_id: string;
  client_secret: string;
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** private_key_jwt: the client's public keys. */
  jwks?: { keys: JWK[] };
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  /** Default true when backchannel_logout_uri is set: logout tokens then carry `sid`. */
  backchannel_logout_session_required?: boolean;
  /** Default: authorization_code, refresh_token, and client_credentials when that feature is on. */
  grant_types?: string[];
  /** Space-separated scopes the client may request (client_credentials); default: all. */
  scope?: string;
}

export interface IdpAccount {
  name: string;
  email: string;
  email_verified?: boolean;
}

export interface StartIdpOptions {
  /** Listen on this port (default: a free one picked by the kernel). */
  port?: number;
  /** Default: [DEFAULT_CLIENT]. */
  clients?: IdpClient[];
  /** Access token (and client-credentials token) lifetime in seconds. Default 60. */
  accessTokenTtl?: number;
  /** Refresh token lifetime in seconds. Default 86400. */
  refreshTokenTtl?: number;
  /** Default true: a NEW refresh token on every refresh (the old one is consumed). false: never rotate. */
  rotateRefreshToken?: boolean;
  /** Default false (opaque ATs, resourceIndicators off). Set: JWT ATs (`typ: at+jwt`, RS256) for this audience. */
  jwtAccessTokens?: { audience: string } | false;
  revocation?: boolean;
  introspection?: boolean;
  clientCredentials?: boolean;
  backchannelLogout?: boolean;
  /** Merged over the default alice and bob. */
  accounts?: Record<string, IdpAccount>;
  /** A hostile IdP from the start (its discovery document too): see TestIdp.rewriteResponses. */
  rewriteResponses?: ResponseRewrite;
}

/** Rewrites a 200 JSON answer (discovery, token, …) before it leaves the IdP: a hostile or broken IdP. */
export type ResponseRewrite = (
  path: string,
  body: Record<string, unknown>,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface IdpCounts {
  /** grant_type → successful token-endpoint grants. */
  grants: Record<string, number>;
  /** grant_type → failed token-endpoint requests ('unknown' when the grant type was not parsed yet). */
  grantErrors: Record<string, number>;
  /** Successful (200) calls to the revocation endpoint. */
  revocations: number;
  /** Successful (200) calls to the introspection endpoint. */
  introspections: number;
  /** Successful (200) userinfo calls. */
  userinfo: number;
  /** Discovery document requests answered 200. */
  discovery: number;
  /** Back-channel logout deliveries that succeeded / failed. */
  backchannelLogouts: number;
  backchannelErrors: number;
}

export interface IdpEvent {
  name: string;
  grantType?: string;
  error?: string;
  description?: string;
  clientId?: string;
  sub?: string;
  sid?: string;
}

export interface TestIdp {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  issuer: string;
  port: number;
  provider: Provider;
  /** `issuer + path`, e.g. url('/jwks'). */
  url(path: string): string;
  stop(): Promise<void>;
  /** Mutated in place: keep a reference if you like. */
  counts: IdpCounts;
  /** Zeroes counts, and empties `events` and `lastAuthorizationRequests`. */
  resetCounts(): void;
  /** Provider events in order (grant.success/error, grant.revoked, backchannel.*, end_session.success, server_error). */
  events: IdpEvent[];
  /** Real HTTP POST to the introspection endpoint, authenticating the way the client is registered. */
  introspect(token: string, clientId: string, clientSecret: string): Promise<Record<string, unknown>>;
  /** The query of every GET /auth that reached the IdP (not the /auth/{uid} resumes). */
  lastAuthorizationRequests: URLSearchParams[];
  /** How each token-endpoint request carried client credentials: an Authorization Basic header, or not (body). */
  tokenRequestAuth: Array<'basic' | 'body'>;
  /** Every Authorization Basic user id as sent (base64-decoded, NOT percent-decoded), any endpoint. */
  basicUsers: string[];
  /** Every private_key_jwt client assertion received (token, revocation, …), with its path. */
  clientAssertions: Array<{ path: string; assertion: string }>;
  /** The `token` of every successful (200) revocation request, in order (emptied by resetCounts). */
  revokedTokens: string[];
  /** true: every connection and request is answered with a TCP reset (existing sockets are reset too). */
  setDown(down: boolean): void;
  /**
   * true: requests are accepted but never answered (a hung IdP). false: the held requests are dropped
   * unanswered (never processed) and new ones are served again.
   */
  setHanging(hanging: boolean): void;
  /** How many requests are held by setHanging(true). */
  heldRequests(): number;
  /**
   * A hostile token endpoint: while set, every POST /token is answered with this instead, and the
   * provider never sees it (no grant spent). Its form parameters are kept in `answeredTokenRequests`.
   */
  setTokenAnswer(answer: TokenAnswer | undefined): void;
  answeredTokenRequests: URLSearchParams[];
  /** A slow token endpoint: each POST /token reaches the provider only after this many ms (0: off). */
  setTokenDelay(ms: number): void;
  /** Register another client after start (e.g. once the gateway's port is known). */
  addClient(client: IdpClient): void;
  /** Turns the hostile rewrite of 200 JSON answers on (a function) or off (undefined). */
  rewriteResponses(rewrite: ResponseRewrite | undefined): void;
  /** The accounts the IdP knows by name (defaults merged with options.accounts). */
  accounts: Record<string, IdpAccount>;
}

export interface TokenAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Default: empty. */
  body?: string;
}

export const DEFAULT_CLIENT: IdpClient = {
  client_id: 'bff',
  client_secret: 'bff-test-client-secret-0123456789abcdef',
  token_endpoint_auth_method: 'client_secret_basic',
  redirect_uris: ['http://localhost:3000/auth/callback'],
  post_logout_redirect_uris: ['http://localhost:3000/'],
};

export const DEFAULT_ACCOUNTS: Readonly<Record<string, IdpAccount>> = {
  alice: { name: 'Alice Liddell', email: 'alice@example.com', email_verified: true },
  bob: { name: 'Bob Builder', email: 'bob@example.com', email_verified: true },
};

export const IDP_SCOPES = ['openid', 'offline_access', 'email', 'profile', 'api:read', 'api:write'];

const COOKIE_KEYS = ['bff-test-idp-cookie-key-1-0123456789', 'bff-test-idp-cookie-key-2-0123456789'];

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

function inc(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

function emptyCounts(): IdpCounts {
  return {
    grants: {},
    grantErrors: {},
    revocations: 0,
    introspections: 0,
    userinfo: 0,
    discovery: 0,
    backchannelLogouts: 0,
    backchannelErrors: 0,
  };
}

function renderHtml(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function startIdp(options: StartIdpOptions = {}): Promise<TestIdp> {
  const accessTokenTtl = options.accessTokenTtl ?? 60;
  const refreshTokenTtl = options.refreshTokenTtl ?? 86_400;
  const rotate = options.rotateRefreshToken ?? true;
  const jwtAt = options.jwtAccessTokens ?? false;
  const revocation = options.revocation ?? true;
  const introspection = options.introspection ?? true;
  const clientCredentials = options.clientCredentials ?? true;
  const backchannelLogout = options.backchannelLogout ?? true;
  const accounts: Record<string, IdpAccount> = { ...DEFAULT_ACCOUNTS, ...options.accounts };
  const registered = new Map<string, IdpClient>();

  const counts = emptyCounts();
  const events: IdpEvent[] = [];
  const lastAuthorizationRequests: URLSearchParams[] = [];
  const tokenRequestAuth: Array<'basic' | 'body'> = [];
  const basicUsers: string[] = [];
  const clientAssertions: Array<{ path: string; assertion: string }> = [];
  const revokedTokens: string[] = [];
  let down = false;
  let hanging = false;
  let tokenAnswer: TokenAnswer | undefined;
  let tokenDelayMs = 0;
  const answeredTokenRequests: URLSearchParams[] = [];
  let rewrite: ResponseRewrite | undefined = options.rewriteResponses;
  const held = new Set<IncomingMessage>();
  const sockets = new Set<Socket>();
  // Set once the provider exists (the server listens first so the issuer port is known).
  const app: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};

  // Listen first (port 0 unless one was given) so the issuer's port is known without a race.
  const server = createServer((req, res) => {
    if (down || !app.handler) {
      req.socket.resetAndDestroy();
      return;
    }
    if (hanging) {
      held.add(req);
      return;
    }
    const u = new URL(req.url ?? '/', 'http://idp.invalid');
    if (u.pathname === '/auth' && req.method === 'GET') {
      lastAuthorizationRequests.push(new URLSearchParams(u.search));
    }
    const handler = app.handler;
    if (u.pathname === '/token' && req.method === 'POST') {
      if (tokenAnswer) {
        answerToken(req, res, tokenAnswer);
        return;
      }
      if (tokenDelayMs > 0) {
        setTimeout(() => handler(req, res), tokenDelayMs);
        return;
      }
    }
    handler(req, res);
  });
  const answerToken = (req: IncomingMessage, res: ServerResponse, answer: TokenAnswer): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answeredTokenRequests.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  };
  server.on('connection', (socket: Socket) => {
    if (down) {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  function clientMetadata(c: IdpClient): Record<string, unknown> {
    const grantTypes = c.grant_types ?? [
      'authorization_code',
      'refresh_token',
      ...(clientCredentials ? ['client_credentials'] : []),
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
    if (backchannelLogout && c.backchannel_logout_uri !== undefined) {
      meta.backchannel_logout_uri = c.backchannel_logout_uri;
      meta.backchannel_logout_session_required = c.backchannel_logout_session_required ?? true;
    }
    return meta;
  }

  const clients = options.clients ?? [DEFAULT_CLIENT];
  for (const c of clients) registered.set(c.client_id, c);

  const store = new OidcMemoryStore();
  const configuration: Configuration = {
    adapter: (model: string) => store.adapter(model),
    clients: clients.map(clientMetadata),
    jwks: { keys: [await getSigningKey()] },
    cookies: { keys: COOKIE_KEYS },
    pkce: { required: () => true },
    scopes: IDP_SCOPES,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: async (_ctx: KoaContextWithOIDC, id: string): Promise<Account> => {
      const known = accounts[id];
      const account: IdpAccount = known ?? { name: `User ${id}`, email: `${id}@example.com` };
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          name: account.name,
          email: account.email,
          email_verified: account.email_verified ?? true,
        }),
      };
    },
    // Default needs offline_access AND prompt=consent; the tests want an RT whenever the client may refresh.
    issueRefreshToken: async (_ctx: KoaContextWithOIDC, client: ClientLike) =>
      client.grantTypeAllowed('refresh_token'),
    // Default rotates a confidential client's RT only after 70% of its lifetime; here: always (or never).
    rotateRefreshToken: () => rotate,
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      RefreshToken: refreshTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 86_400,
      Grant: 86_400,
    },
    renderError: async (ctx: KoaContextWithOIDC, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = renderHtml(
        'oops! something went wrong',
        Object.entries(out)
          .map(([k, v]) => `<pre><strong>${escapeHtml(k)}</strong>: ${escapeHtml(String(v))}</pre>`)
          .join(''),
      );
    },
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
      revocation: {
        enabled: revocation,
        allowedPolicy: async (_ctx: KoaContextWithOIDC, client: ClientLike, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      introspection: { enabled: introspection, allowedPolicy: async () => true },
      clientCredentials: { enabled: clientCredentials },
      backchannelLogout: { enabled: backchannelLogout },
      rpInitiatedLogout: {
        enabled: true,
        // Same shape as the default page: <form id="op.logoutForm"> plus buttons with form= (see login.ts).
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = renderHtml(
            'Logout Request',
            `${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>` +
              `<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.body = renderHtml('Sign-out Success', '<h1>Sign-out Success</h1>');
        },
      },
      resourceIndicators: jwtAt
        ? {
            enabled: true,
            defaultResource: async () => jwtAt.audience,
            useGrantedResource: async () => true,
            getResourceServerInfo: async (_ctx: KoaContextWithOIDC, indicator: string) => {
              if (indicator !== jwtAt.audience)
                throw new errors.InvalidTarget(`unknown resource ${indicator}`);
              return {
                scope: 'api:read api:write',
                audience: jwtAt.audience,
                accessTokenTTL: accessTokenTtl,
                accessTokenFormat: 'jwt',
                jwt: { sign: { alg: 'RS256' } },
              };
            },
          }
        : { enabled: false },
    },
    // Outbound requests (back-channel logout) normally go through an SSRF-protecting dispatcher that
    // refuses loopback addresses; drop it so a test gateway on 127.0.0.1 can be reached.
    fetch: (url: string | URL, init: RequestInit & { dispatcher?: unknown }) => {
      const rest: RequestInit & { dispatcher?: unknown } = { ...init };
      delete rest.dispatcher;
      return globalThis.fetch(url, rest);
    },
  };

  const provider = new Provider(issuer, configuration);

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
    const counter = ROUTE_COUNTERS[ctx.path];
    if (counter && ctx.status === 200) counts[counter] += 1;
    const revoked = (ctx as KoaContextWithOIDC).oidc?.params?.token;
    if (ctx.path === '/token/revocation' && ctx.status === 200 && typeof revoked === 'string')
      revokedTokens.push(revoked);
  });

  const grantTypeOf = (ctx: KoaContextWithOIDC): string => {
    const gt = ctx.oidc?.params?.grant_type;
    return typeof gt === 'string' ? gt : 'unknown';
  };
  provider.on('grant.success', (ctx) => {
    const grantType = grantTypeOf(ctx);
    inc(counts.grants, grantType);
    events.push({ name: 'grant.success', grantType, clientId: ctx.oidc?.client?.clientId });
  });
  provider.on('grant.error', (ctx, err) => {
    const grantType = grantTypeOf(ctx);
    inc(counts.grantErrors, grantType);
    events.push({
      name: 'grant.error',
      grantType,
      error: err.error ?? err.message,
      description: err.error_description,
      clientId: ctx.oidc?.client?.clientId,
    });
  });
  provider.on('grant.revoked', (ctx) => {
    events.push({ name: 'grant.revoked', clientId: ctx.oidc?.client?.clientId });
  });
  provider.on('backchannel.success', (_ctx, client, accountId, sid) => {
    counts.backchannelLogouts += 1;
    events.push({ name: 'backchannel.success', clientId: client.clientId, sub: accountId, sid });
  });
  provider.on('backchannel.error', (_ctx, err, client, accountId, sid) => {
    counts.backchannelErrors += 1;
    events.push({
      name: 'backchannel.error',
      error: err.message,
      clientId: client.clientId,
      sub: accountId,
      sid,
    });
  });
  provider.on('end_session.success', () => {
    events.push({ name: 'end_session.success' });
  });
  provider.on('server_error', (_ctx, err) => {
    events.push({ name: 'server_error', error: err.stack ?? err.message });
  });

  app.handler = provider.callback();

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

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
    accounts,
    lastAuthorizationRequests,
    tokenRequestAuth,
    basicUsers,
    clientAssertions,
    revokedTokens,
    resetCounts: () => {
      const fresh = emptyCounts();
      for (const k of Object.keys(counts.grants)) delete counts.grants[k];
      for (const k of Object.keys(counts.grantErrors)) delete counts.grantErrors[k];
      counts.revocations = fresh.revocations;
      counts.introspections = fresh.introspections;
      counts.userinfo = fresh.userinfo;
      counts.discovery = fresh.discovery;
      counts.backchannelLogouts = fresh.backchannelLogouts;
      counts.backchannelErrors = fresh.backchannelErrors;
      events.length = 0;
      lastAuthorizationRequests.length = 0;
      tokenRequestAuth.length = 0;
      basicUsers.length = 0;
      clientAssertions.length = 0;
      revokedTokens.length = 0;
      answeredTokenRequests.length = 0;
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
    rewriteResponses: (fn: ResponseRewrite | undefined) => {
      rewrite = fn;
    },
    addClient: (c: IdpClient) => {
      registered.set(c.client_id, c);
      const meta = clientMetadata(c);
      store.entries.set(`Client:${c.client_id}`, { payload: meta, expiresAt: undefined });
    },
  };
}
