/**
 * The demo's IdP (npm run demo, npm run demo:idp): the shared oidc-provider setup (idp.ts) with one
 * client, the gateway's, with PKCE, back-channel logout and JWT access tokens for the demo's APIs.
 */
import { startIdpServer } from './idp.js';
import type { DemoLog } from './log.js';

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
  /** More APIs, each with its own audience (RFC 8707): the billing API. */
  resources?: string[];
  /** Access-token lifetime, seconds. */
  accessTokenTtl: number;
  log: DemoLog;
}

export interface DevIdp {
  issuer: string;
  port: number;
  stop(): Promise<void>;
}

/** The demo's IdP: one client, the gateway's, with PKCE, back-channel logout and JWT access tokens for the API. */
export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const idp = await startIdpServer({
    host: options.host,
    port: options.port,
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
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
    accessTokenTtl: options.accessTokenTtl,
    apiAudience: options.apiAudience,
    ...(options.resources ? { resources: options.resources } : {}),
    log: options.log,
  });
  return { issuer: idp.issuer, port: idp.port, stop: idp.stop };
}
