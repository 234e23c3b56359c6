/**
 * The OpenID Provider of the demo and of the tests: oidc-provider 9 with the demo's users (alice, bob;
 * settings.ts), its development login and consent pages (any password is accepted), PKCE required,
 * refresh-token rotation on every refresh, RP-initiated logout and back-channel logout to the gateway.
 * The demo adds short-lived JWT access tokens for its APIs, one audience each (resource indicators,
 * idp-resources.ts), RFC 8693 token exchange (idp-exchange.ts) and DPoP-bound tokens when the client
 * sends proofs; the tests (test/helpers/idp.ts) add their knobs through IdpServerOptions. Development
 * only: state is in memory.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  Provider,
  type Account,
  type ClientLike,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { escapeHtml } from '../http/pages.js';
import { ACR_VALUES, recordAcr, stepUpPolicy } from './idp-acr.js';
import { logEvents } from './idp-log.js';
import { page } from './idp-pages.js';
import type { DemoLog } from './log.js';
import { OidcMemoryStore } from './oidc-memory-store.js';
import { closeNow, listen } from './ports.js';
import { type ExchangePolicy, registerTokenExchange } from './idp-exchange.js';
import { resourceIndicatorsFeature, resourceSetup, withDefaultResource } from './idp-resources.js';
import { API_SCOPES, accountFor } from './settings.js';

/**
 * One oidc-provider setup for the demo and the tests (test/helpers/idp.ts builds on it): the accounts
 * are the demo's (settings.ts), the knobs below are what a test varies. Defaults are the demo's.
 */
export interface IdpServerOptions {
  /** Address to bind. */
  host: string;
  /** 0: a free port picked by the kernel. */
  port: number;
  /** The issuer the browser and the gateway use; default `http://<host>:<port>`. */
  issuer?: string;
  /** Client metadata as oidc-provider takes it (client_id, client_secret, redirect_uris, …). */
  clients: Array<Record<string, unknown>>;
  /** Access-token (and client-credentials token) lifetime, seconds. */
  accessTokenTtl: number;
  /** Refresh-token lifetime, seconds. Default 86400. */
  refreshTokenTtl?: number;
  /** Default true: a new refresh token on every refresh (the old one is spent). false: never rotate. */
  rotateRefreshToken?: boolean;
  /** JWT access tokens for this resource indicator (RFC 8707), the `aud` of the API's tokens; omitted: opaque tokens. */
  apiAudience?: string;
  /**
   * More resource indicators, each an API with its own `aud` (JWT access tokens): issued by a refresh
   * with `resource` (granted at authorization) or by token exchange. See idp-resources.ts.
   */
  resources?: string[];
  /** RFC 8693 token exchange (idp-exchange.ts): answers undefined to allow, or the invalid_grant reason. */
  exchangePolicy?: ExchangePolicy;
  /** DPoP at the token endpoint; default true (oidc-provider's default). */
  dpop?: boolean;
  /** Asked on each DPoP token request: true demands a server nonce (`use_dpop_nonce`). Default: never. */
  dpopNonce?: () => boolean;
  /**
   * Where the profile and email claims go: the ID token (default; the demo's JWT access token is for
   * its API, which UserInfo would not accept) or a UserInfo endpoint (the ID token then holds only `sub`).
   */
  claimsIn?: 'idToken' | 'userinfo';
  /** Optional endpoints and grants (defaults: revocation and back-channel logout on, the others off). */
  revocation?: boolean;
  introspection?: boolean;
  clientCredentials?: boolean;
  backchannelLogout?: boolean;
  /** The signing key (private JWK with kid); default: a new RSA key. Tests share one to forge tokens. */
  signingKey?: JWK;
  /** RFC 9126: accept only pushed authorization requests (and say so in discovery). Default false. */
  requirePushedAuthorizationRequests?: boolean;
  /**
   * Sees every request first; calls `pass()` to hand it to the provider, or answers (or holds) it
   * itself. Tests make a down, hung or hostile IdP with it.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse, pass: () => void) => void;
  /** The provider's events are logged here; default: nowhere. */
  log?: DemoLog;
  /** The variable named when the port is taken. Default DEMO_IDP_PORT. */
  portVariable?: string;
}

export interface IdpServer {
  issuer: string;
  port: number;
  /**
   * Middleware added with `provider.use` before the first request is served is part of the chain (the
   * Koa handler is composed on the first request).
   */
  provider: Provider;
  server: Server;
  /** Its storage: a client registered after start is a `Client:<client_id>` entry. */
  store: OidcMemoryStore;
  stop(): Promise<void>;
}

const SILENT: DemoLog = { info: () => {}, warn: () => {}, error: () => {} };

export async function startIdpServer(options: IdpServerOptions): Promise<IdpServer> {
  const log = options.log ?? SILENT;
  const resources = resourceSetup(options.apiAudience, options.resources, options.accessTokenTtl);
  const handler: { compose?: () => (req: IncomingMessage, res: ServerResponse) => void } = {};
  let serve: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (!handler.compose) return void res.writeHead(503).end();
    serve ??= handler.compose();
    const ready = serve;
    const pass = (): void => {
      req.url = withDefaultResource(req.url ?? '/', resources) ?? req.url;
      ready(req, res);
    };
    if (options.intercept) options.intercept(req, res, pass);
    else pass();
  });
  await listen(server, options.host, options.port, options.portVariable ?? 'DEMO_IDP_PORT');
  const port = (server.address() as AddressInfo).port;
  const issuer = options.issuer ?? `http://${options.host}:${port}`;

  const signingKey = options.signingKey ?? (await newSigningKey());
  const store = new OidcMemoryStore();
  const rotate = options.rotateRefreshToken ?? true;
  const userinfo = options.claimsIn === 'userinfo';

  const configuration: Configuration = {
    adapter: (model: string) => store.adapter(model),
    clients: options.clients as unknown as Configuration['clients'],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'profile', 'email', ...API_SCOPES],
    // acr and amr in every ID token (oidc-provider releases them only when asked for otherwise).
    claims: {
      openid: ['sub', 'acr', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups'],
    },
    // urn:example:pwd, or urn:example:mfa when acr_values asks for it (idp-acr.ts).
    acrValues: ACR_VALUES,
    interactions: { policy: stepUpPolicy() },
    // Without a UserInfo endpoint the ID token carries the profile and email claims.
    ...(userinfo ? {} : { conformIdTokenClaims: false }),
    findAccount: async (_ctx: KoaContextWithOIDC, id: string): Promise<Account> => {
      const account = accountFor(id);
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          name: account.name,
          email: account.email,
          email_verified: true,
          ...(account.groups ? { groups: [...account.groups] } : {}),
        }),
      };
    },
    // The default issues a refresh token only for offline_access together with prompt=consent.
    issueRefreshToken: async (_ctx: KoaContextWithOIDC, client: ClientLike) =>
      client.grantTypeAllowed('refresh_token'),
    // The default rotates a confidential client's refresh token only late in its life: here always (or never).
    rotateRefreshToken: () => rotate,
    ttl: {
      AccessToken: options.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: options.refreshTokenTtl ?? 86_400,
      Interaction: 600,
      Session: 86_400,
      Grant: 86_400,
      ClientCredentials: options.accessTokenTtl,
    },
    clientBasedCORS: () => false,
    renderError: async (ctx: KoaContextWithOIDC, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page(
        'Error',
        `<h1>Something went wrong</h1>${Object.entries(out)
          .map(([k, v]) => `<pre><strong>${escapeHtml(k)}</strong>: ${escapeHtml(String(v))}</pre>`)
          .join('')}`,
      );
    },
    features: {
      devInteractions: { enabled: true },
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: options.requirePushedAuthorizationRequests ?? false,
      },
      userinfo: { enabled: userinfo },
      introspection: { enabled: options.introspection ?? false, allowedPolicy: async () => true },
      clientCredentials: { enabled: options.clientCredentials ?? false },
      revocation: {
        enabled: options.revocation ?? true,
        allowedPolicy: async (_ctx: KoaContextWithOIDC, client: ClientLike, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      backchannelLogout: { enabled: options.backchannelLogout ?? true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = 'html';
          ctx.body = page(
            'Sign out',
            `<h1>Sign out of the demo IdP?</h1>${form}<p>` +
              '<button id="logout-yes" class="primary" type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>' +
              '<button id="logout-no" type="submit" form="op.logoutForm">No, stay signed in</button></p>',
          );
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>You are signed out of the demo IdP.</h1>');
        },
      },
      resourceIndicators: resourceIndicatorsFeature(resources),
      // DPoP (RFC 9449) at the token endpoint: a proof binds the tokens to its key (`cnf.jkt`).
      dPoP: {
        enabled: options.dpop ?? true,
        nonceSecret: randomBytes(32),
        requireNonce: () => options.dpopNonce?.() ?? false,
      },
    },
    // Outbound requests (back-channel logout) go through an SSRF-protecting dispatcher that refuses
    // loopback and private addresses; the demo's and the tests' gateways are on one, so drop it.
    fetch: (url: string | URL, init: RequestInit & { dispatcher?: unknown }) => {
      const rest: RequestInit & { dispatcher?: unknown } = { ...init };
      delete rest.dispatcher;
      return globalThis.fetch(url, rest);
    },
  };

  const provider = new Provider(issuer, configuration);
  await registerTokenExchange(provider, resources, signingKey, options.exchangePolicy ?? (() => undefined));
  recordAcr(provider);
  logEvents(provider, log);
  handler.compose = () => provider.callback();

  let stopped = false;
  return {
    issuer,
    port,
    provider,
    server,
    store,
    async stop() {
      if (stopped) return;
      stopped = true;
      await closeNow(server);
    },
  };
}

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: 'demo-rs256', alg: 'RS256', use: 'sig' };
}
