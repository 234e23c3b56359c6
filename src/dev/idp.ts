/**
 * The demo's OpenID Provider: oidc-provider 9 with two users (alice, bob), its development login and
 * consent pages (any password is accepted), PKCE required, refresh-token rotation on every refresh,
 * short-lived JWT access tokens for the demo API (resource indicators), RP-initiated logout and
 * back-channel logout to the gateway. Development only: state is kept in memory.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import {
  Provider,
  errors,
  type Account,
  type ClientLike,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { DemoLog } from './log.js';
import { OidcMemoryStore } from './oidc-memory-store.js';
import { closeNow, listen } from './ports.js';
import { API_SCOPES, accountFor } from './settings.js';

export interface DevIdpOptions {
  /** Address to bind. */
  host: string;
  port: number;
  /** The issuer the browser and the gateway use; default `http://<host>:<port>`. */
  issuer?: string;
  clientId: string;
  clientSecret: string;
  /** The gateway's public origin: its redirect and post-logout redirect URIs are registered under it. */
  gatewayUrl: string;
  /** Where the IdP POSTs logout tokens (server to server, so it may differ from gatewayUrl's host). */
  backchannelLogoutUri: string;
  /** The demo API's resource indicator, the `aud` of its access tokens. */
  apiAudience: string;
  /** Access-token lifetime, seconds. */
  accessTokenTtl: number;
  log: DemoLog;
}

export interface DevIdp {
  issuer: string;
  port: number;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Pages: the logout confirmation, the post-logout page and errors (login and consent are
// oidc-provider's own development pages).
// ---------------------------------------------------------------------------

const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;background:#f4f6fb;color:#1d2433;display:flex;justify-content:center;padding-top:10vh}' +
  'main{background:#fff;border-radius:10px;box-shadow:0 2px 10px rgba(0,0,0,.08);padding:2rem 2.5rem;max-width:28rem}' +
  'h1{font-size:1.4rem;margin-top:0}button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #9aa5b8;background:#fff;cursor:pointer;margin-right:.5rem}' +
  'button.primary{background:#2f5bd3;border-color:#2f5bd3;color:#fff}pre{white-space:pre-wrap;background:#f4f6fb;padding:.5rem;border-radius:6px}';

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · demo IdP</title><style>${PAGE_STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const { log } = options;
  const app: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server = createServer((req, res) => {
    if (app.handler) app.handler(req, res);
    else res.writeHead(503).end();
  });
  await listen(server, options.host, options.port, 'DEMO_IDP_PORT');
  const port = (server.address() as AddressInfo).port;
  const issuer = options.issuer ?? `http://${options.host}:${port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'demo-rs256', alg: 'RS256', use: 'sig' };
  const store = new OidcMemoryStore();
  const allApiScopes = API_SCOPES.join(' ');

  const configuration: Configuration = {
    adapter: (model: string) => store.adapter(model),
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [`${options.gatewayUrl}/auth/callback`],
        post_logout_redirect_uris: [`${options.gatewayUrl}/`],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
        backchannel_logout_uri: options.backchannelLogoutUri,
        backchannel_logout_session_required: true,
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'profile', 'email', ...API_SCOPES],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // The ID token carries the profile and email claims (there is no UserInfo endpoint, see below).
    conformIdTokenClaims: false,
    findAccount: async (_ctx: KoaContextWithOIDC, id: string): Promise<Account> => {
      const account = accountFor(id);
      return {
        accountId: id,
        claims: async () => ({ sub: id, name: account.name, email: account.email, email_verified: true }),
      };
    },
    // The default issues a refresh token only for offline_access together with prompt=consent.
    issueRefreshToken: async (_ctx: KoaContextWithOIDC, client: ClientLike) =>
      client.grantTypeAllowed('refresh_token'),
    // Every refresh returns a new refresh token and spends the old one.
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: options.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 86_400,
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
      // The access token is a JWT for the demo API, which UserInfo would not accept; the claims are
      // in the ID token instead, so the gateway has nothing to fetch.
      userinfo: { enabled: false },
      introspection: { enabled: false },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: KoaContextWithOIDC, client: ClientLike, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      backchannelLogout: { enabled: true },
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
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => options.apiAudience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx: KoaContextWithOIDC, indicator: string) => {
          if (indicator !== options.apiAudience)
            throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          // At the authorization endpoint the signed-in user is known: offer consent only for the API
          // scopes that user may have (bob: api:read). The grant then caps every token, refreshes too.
          const accountId = (ctx.oidc as { session?: { accountId?: string } }).session?.accountId;
          return {
            scope: accountId === undefined ? allApiScopes : accountFor(accountId).apiScopes.join(' '),
            audience: options.apiAudience,
            accessTokenTTL: options.accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // Outbound requests (back-channel logout) go through an SSRF-protecting dispatcher that refuses
    // loopback and private addresses; the demo's gateway is on one, so drop it.
    fetch: (url: string | URL, init: RequestInit & { dispatcher?: unknown }) => {
      const rest: RequestInit & { dispatcher?: unknown } = { ...init };
      delete rest.dispatcher;
      return globalThis.fetch(url, rest);
    },
  };

  const provider = new Provider(issuer, configuration);
  const accountOf = (ctx: KoaContextWithOIDC): string | undefined => {
    const entities = ctx.oidc?.entities as { Account?: { accountId?: string } } | undefined;
    return entities?.Account?.accountId;
  };
  provider.on('grant.success', (ctx) => {
    const grantType = ctx.oidc?.params?.grant_type;
    log.info(grantType === 'refresh_token' ? 'tokens refreshed (refresh token rotated)' : 'tokens issued', {
      grant: grantType,
      sub: accountOf(ctx),
      client_id: ctx.oidc?.client?.clientId,
    });
  });
  provider.on('grant.error', (ctx, err) => {
    log.warn('token request refused', {
      grant: ctx.oidc?.params?.grant_type,
      error: err.error ?? err.message,
      description: err.error_description,
    });
  });
  provider.on('authorization.error', (...args: unknown[]) => {
    const err = args[1] as { error?: string; error_description?: string; message?: string } | undefined;
    log.warn('authorization request refused', {
      error: err?.error ?? err?.message,
      description: err?.error_description,
    });
  });
  provider.on('end_session.success', () => log.info('signed out at the IdP (RP-initiated logout)'));
  provider.on('backchannel.success', (_ctx, client, accountId) => {
    log.info('back-channel logout delivered', { client_id: client.clientId, sub: accountId });
  });
  provider.on('backchannel.error', (_ctx, err, client, accountId) => {
    log.warn('back-channel logout not delivered', {
      client_id: client.clientId,
      sub: accountId,
      error: err.message,
      to: options.backchannelLogoutUri,
    });
  });
  provider.on('server_error', (_ctx, err) => log.error('IdP error', { error: err.message }));
  app.handler = provider.callback();

  let stopped = false;
  return {
    issuer,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await closeNow(server);
    },
  };
}
