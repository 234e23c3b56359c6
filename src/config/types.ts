/** The validated, fully-resolved gateway configuration. Everything else reads only this. */
import type { ClientPrivateKey } from './client-key.js';

export type TokenType = 'user' | 'client' | 'optional' | 'none';
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface HostPort {
  host: string;
  port: number;
}

/** A JSON scalar a claim may have to equal (a route's `require.claims`). */
export type ClaimValue = string | number | boolean;

/** A route's `require`: who may call it (proxy/route-policy.ts checks it). */
export interface RoutePolicy {
  /** Claim name -> allowed values, in file order; every listed claim must match (403 otherwise). */
  claims: [string, ClaimValue[]][];
  /** The sign-in's `acr` must be one of these (401 step_up_required otherwise). */
  acr: string[] | undefined;
  /** The sign-in (`auth_time`) must be at most this old, in whole seconds' ms (step-up otherwise). */
  maxAgeMs: number | undefined;
}

export interface RouteConfig {
  /** Normalised: starts with '/', no trailing slash (except the root '/'). */
  prefix: string;
  /** Absolute http(s) URL without query or fragment; its path replaces the prefix. */
  target: string;
  token: TokenType;
  /** Client-credentials scopes (token: client). */
  scopes: string[];
  csrf: boolean;
  /** Upper-case allow-list; undefined means every method. */
  methods: string[] | undefined;
  websocket: boolean;
  timeoutMs: number;
  /** Only on user and optional routes; undefined (no check at all) on most. */
  require?: RoutePolicy | undefined;
  /** RFC 8707: the route's user token is obtained for this resource (user and optional routes only). */
  audience?: string | undefined;
  /** RFC 8693: the user's access token is exchanged for one for this API (user and optional routes only). */
  exchange?: RouteExchange | undefined;
}

export interface RouteExchange {
  audience: string;
  /** Space-separated; undefined: the IdP's default for that audience. */
  scope: string | undefined;
}

export type RedisConfig =
  | { mode: 'memory'; keyPrefix: string }
  | { mode: 'standalone'; url: string; keyPrefix: string }
  | { mode: 'cluster'; nodes: HostPort[]; keyPrefix: string }
  | { mode: 'sentinel'; sentinels: HostPort[]; name: string; keyPrefix: string };

export interface GatewayConfig {
  production: boolean;
  port: number;
  host: string;
  /** Origin only, e.g. `https://app.example.com` (no trailing slash). */
  publicUrl: string;
  /** `${publicUrl}/auth/callback` */
  redirectUri: string;
  oidc: {
    issuer: string;
    clientId: string;
    clientSecret: string | undefined;
    /** 'none' only when neither a client secret nor a private key is configured (public client). */
    clientAuth: ClientAuthMethod;
    /** private_key_jwt: OIDC_CLIENT_PRIVATE_KEY, parsed (OIDC_CLIENT_KEY_ID or the key's own kid). */
    clientPrivateKey: ClientPrivateKey | undefined;
    scopes: string[];
    /** Extra authorization-request parameters, in order; never a protocol parameter. */
    authParams: [string, string][];
    clockToleranceSec: number;
    allowInsecureHttp: boolean;
    /** OIDC_ID_TOKEN_ALGS; undefined: what the IdP advertises, without none and HS*. */
    idTokenAlgs: string[] | undefined;
    /** OIDC_PAR: authorization requests by RFC 9126 push (always when the IdP requires it). */
    par: boolean;
    /** OIDC_DPOP: every token DPoP-bound (RFC 9449) to a per-session key (client credentials: the gateway's). */
    dpop: boolean;
  };
  redis: RedisConfig;
  session: {
    /** First signs, all verify. */
    secrets: string[];
    /** True when no SESSION_SECRET was configured and a random one was made for this process. */
    secretsGenerated: boolean;
    idleTimeoutMs: number;
    maxAgeMs: number;
    cookieName: string;
    loginCookieName: string;
    sameSite: 'strict' | 'lax';
    /** Secure cookies: true when publicUrl is https. */
    secure: boolean;
  };
  tokens: {
    /** 32-byte keys; first encrypts, all decrypt. */
    encryptionKeys: Buffer[];
    refreshSkewMs: number;
  };
  /** Express `trust proxy` value. */
  trustProxy: boolean | number | string;
  frontend: { dir: string | undefined; url: string | undefined };
  metrics: { port: number | undefined };
  /** RATE_LIMIT_LOGIN: login starts and callbacks per client IP per minute; 0 = off. */
  rateLimit: { login: number };
  /**
   * CONTENT_SECURITY_POLICY: the whole policy on the gateway's pages and FRONTEND_DIR files; 'off' sends
   * none; undefined means the strict default (security-headers.ts).
   */
  headers: { contentSecurityPolicy: string | undefined };
  logLevel: LogLevel;
  routes: RouteConfig[];
  /** Start-up warnings (insecure defaults) to log once the logger exists. */
  warnings: string[];
}
