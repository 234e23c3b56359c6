/** The test IdP's types: what a test passes to startIdp and what it gets back (test/helpers/idp.ts). */
import type { JWK } from 'jose';
import type { Provider } from 'oidc-provider';
import type { ExchangeRequest } from '../../src/dev/idp-exchange.js';

export type { ExchangeRequest };
export { TOKEN_EXCHANGE, ACCESS_TOKEN_TYPE } from '../../src/dev/idp-exchange.js';

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
  /** RFC 9449: the IdP refuses this client's token requests without a DPoP proof. */
  dpop_bound_access_tokens?: boolean;
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
  /**
   * Default false (opaque ATs, resourceIndicators off). Set: JWT ATs (`typ: at+jwt`, RS256) for this
   * audience, with the API scopes each account may have (alice: api:read api:write, bob: api:read).
   */
  jwtAccessTokens?: { audience: string } | false;
  revocation?: boolean;
  introspection?: boolean;
  clientCredentials?: boolean;
  backchannelLogout?: boolean;
  /** A hostile IdP from the start (its discovery document too): see TestIdp.rewriteResponses. */
  rewriteResponses?: ResponseRewrite;
  /** RFC 9126: the IdP accepts only pushed authorization requests (discovery says so). Default false. */
  requirePar?: boolean;
  /**
   * More APIs (RFC 8707 resource indicators), each with its own `aud` (JWT ATs with the account's API
   * scopes), e.g. ['https://orders.example', 'https://billing.example']. A client gets one by a refresh
   * with `resource` (when its authorization request named it) or by token exchange. An authorization
   * request that names resources also gets `jwtAccessTokens.audience` granted, so the session's own token
   * stays for that API (opaque when jwtAccessTokens is off).
   */
  resources?: string[];
  /** RFC 8693 token exchange allowed for the clients (their default grant_types). Default true. */
  tokenExchange?: boolean;
  /** DPoP at the token endpoint (oidc-provider's own checks). Default true. */
  dpop?: boolean;
  /** Demand a DPoP nonce (`use_dpop_nonce`) on every DPoP token request from the start. Default false. */
  dpopNonce?: boolean;
}

/** One successful token-endpoint answer that carried an access token. */
export interface IssuedToken {
  grantType: string;
  /** The `resource` (or, for token exchange, `audience`) parameter; undefined when absent. */
  requested: string | undefined;
  /** The JWT access token's `aud`; undefined for an opaque token. */
  audience: string | string[] | undefined;
  /** `Bearer` or `DPoP`. */
  tokenType: string;
  /** The JWT access token's `cnf.jkt` (DPoP key thumbprint); undefined when unbound or opaque. */
  jkt: string | undefined;
  scope: string | undefined;
  accessToken: string;
}

/** Rewrites a 200 JSON answer (discovery, token, …) before it leaves the IdP: a hostile or broken IdP. */
export type ResponseRewrite = (
  path: string,
  body: Record<string, unknown>,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface IdpCounts {
  /** grant_type → successful token-endpoint grants. */
  grants: Record<string, number>;
  /**
   * `<grant_type> <resource>` → successful grants, the resource being the JWT access token's `aud`
   * (`-` for an opaque token), e.g. `refresh_token https://orders.example`.
   */
  grantsByResource: Record<string, number>;
  /** Successful grants whose access token is DPoP-bound (token_type DPoP). */
  dpopGrants: number;
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
  /**
   * Holds every POST /token from now on (the provider does not see it yet) until `release()`, which
   * passes the held ones on in order: a refresh caught in flight, without a clock.
   */
  holdTokenRequests(): { held(): number; release(): void };
  /** Every access token issued (any grant), in order (emptied by resetCounts). */
  issued: IssuedToken[];
  /** Successful grants of this type, for this resource (the token's `aud`; `-`: opaque), or for any resource. */
  grantCount(grantType: string, resource?: string): number;
  /** Token exchange policy: answers undefined to allow, or the reason of an invalid_grant refusal. undefined: allow all. */
  setExchangePolicy(policy: ((request: ExchangeRequest) => string | undefined) | undefined): void;
  /** true: DPoP token requests must carry an IdP nonce (`use_dpop_nonce` challenge first). */
  setDpopNonce(required: boolean): void;
  /** Register another client after start (e.g. once the gateway's port is known). */
  addClient(client: IdpClient): void;
  /** Turns the hostile rewrite of 200 JSON answers on (a function) or off (undefined). */
  rewriteResponses(rewrite: ResponseRewrite | undefined): void;
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
