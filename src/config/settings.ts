/**
 * THE table of settings: every env variable the gateway reads, its file key (if the BFF_CONFIG file
 * may set it), what it expects, its file shape, its parser and its default. The file schema
 * (file.ts), the env mapping and messages (reader.ts), the README's configuration table check
 * (test/unit/config-readme.test.ts) and the deployment checks all come from here.
 *
 * A default is written as an operator would write it and goes through the same parser, so the
 * README's default cell and the value in effect cannot drift apart. Defaults that depend on other
 * settings (the public URL, cookie names, keys) are computed by the sections and documented in
 * `defaultDoc`.
 */
import { z } from 'zod';

import { parseContentSecurityPolicy } from './content-security-policy.js';
import { parseIdTokenAlgs } from './id-token-algs.js';
import * as p from './parsers.js';
import * as net from './parsers-net.js';
import { parseLoginRateLimit } from './rate-limit.js';
import { Bool, DURATION, LOG_LEVELS, List, Num, STRING, Str, URL_STRING } from './shapes.js';
import { AuthParams, BOOLEAN, HOST_PORTS, PORT, TrustProxy } from './shapes.js';

const CLIENT_AUTHS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

export interface Setting<S extends z.ZodType = z.ZodType, T = unknown> {
  /** The BFF_CONFIG file key (`oidc.issuer`); undefined for env-only settings. */
  key: string | undefined;
  /** What a file value must be, as the shape error says it. */
  expect: string;
  /** The file value's shape (env values are strings, which every shape takes). */
  schema: S;
  /** Value parser: throws Invalid ("must …: fix"). */
  parse: (value: z.infer<S>) => T;
  /** The default as written in the README, parsed by `parse`; undefined: see defaultDoc. */
  default: string | undefined;
  /** The README's default cell says this when there is no plain default (`required`, `none`, …). */
  defaultDoc: string | undefined;
  /** Required settings: what to set it to, for the "X is required: set it to …" message. */
  required: string | undefined;
}

function setting<S extends z.ZodType, T>(s: {
  key?: string;
  expect: string;
  schema: S;
  parse: (value: z.infer<S>) => T;
  default?: string;
  defaultDoc?: string;
  required?: string;
}): Setting<S, T> {
  const defaultDoc = s.required !== undefined ? 'required' : s.defaultDoc;
  return { ...s, key: s.key, default: s.default, defaultDoc, required: s.required };
}

const string = (key: string | undefined) =>
  setting({ key, expect: STRING, schema: Str, parse: (v: string) => v, defaultDoc: 'none' });
const duration = (key: string, limits: p.DurationLimits, dflt: string) =>
  setting({ key, expect: DURATION, schema: Num, parse: (v) => p.parseDurationMs(v, limits), default: dflt });

/** Longest timer Node's setTimeout honours (2^31-1 ms); longer ones fire at once. */
export const MAX_ROUTE_TIMEOUT_MS = 24 * 86_400_000;
const MAX_CLOCK_TOLERANCE_MS = 5 * 60_000;

export const SETTINGS = {
  PORT: setting({ key: 'port', expect: PORT, schema: Num, parse: (v) => p.parsePort(v, 0), default: '3000' }),
  HOST: setting({
    key: 'host',
    expect: STRING,
    schema: Str,
    parse: (v) => p.requireString(v, 'a host name or address'),
    default: '0.0.0.0',
  }),
  BFF_PUBLIC_URL: setting({
    key: 'publicUrl',
    expect: URL_STRING,
    schema: Str,
    parse: net.parseOrigin,
    defaultDoc: '`http://localhost:${PORT}`',
  }),
  BFF_CONFIG: string(undefined),
  OIDC_ISSUER: setting({
    key: 'oidc.issuer',
    expect: URL_STRING,
    schema: Str,
    // Kept as given: openid-client compares it with the discovered issuer.
    parse: (v) => {
      net.parseHttpUrl(v);
      return v;
    },
    required: "your OpenID Provider's issuer URL (e.g. https://login.example.com)",
  }),
  OIDC_CLIENT_ID: setting({
    key: 'oidc.clientId',
    expect: STRING,
    schema: Str,
    parse: (v: string) => v,
    required: 'the client id registered at your OpenID Provider',
  }),
  OIDC_CLIENT_SECRET: string('oidc.clientSecret'),
  OIDC_CLIENT_AUTH: setting({
    key: 'oidc.clientAuth',
    expect: 'client_secret_basic, client_secret_post or private_key_jwt',
    schema: Str,
    parse: (v) => p.oneOf(v, CLIENT_AUTHS),
    defaultDoc: '`client_secret_basic` (`private_key_jwt` when a private key is set)',
  }),
  OIDC_CLIENT_PRIVATE_KEY: setting({
    key: 'oidc.clientPrivateKey',
    expect: 'a file path string',
    schema: Str,
    parse: (v: string) => v,
    defaultDoc: 'none',
  }),
  OIDC_CLIENT_KEY_ID: string('oidc.clientKeyId'),
  OIDC_ID_TOKEN_ALGS: setting({
    key: 'oidc.idTokenAlgs',
    expect: 'a list of algorithms or a comma-separated string',
    schema: List,
    parse: parseIdTokenAlgs,
    defaultDoc: 'what the IdP advertises',
  }),
  OIDC_SCOPES: setting({
    key: 'oidc.scopes',
    expect: 'a list of scopes or a space-separated string',
    schema: List,
    parse: (v) => p.parseScopes(v, true),
    default: 'openid profile email offline_access',
  }),
  OIDC_AUTH_PARAMS: setting({
    key: 'oidc.authParams',
    expect: 'a mapping of parameter names to strings (or lists of strings) or a URL-encoded string',
    schema: AuthParams,
    parse: p.parseAuthParams,
    defaultDoc: 'none',
  }),
  OIDC_CLOCK_TOLERANCE: duration(
    'oidc.clockTolerance',
    { min: 0, max: MAX_CLOCK_TOLERANCE_MS, maxText: '5m' },
    '5s',
  ),
  OIDC_PAR: setting({
    key: 'oidc.par',
    expect: BOOLEAN,
    schema: Bool,
    parse: p.parseBoolean,
    default: 'false',
  }),
  OIDC_DPOP: setting({
    key: 'oidc.dpop',
    expect: BOOLEAN,
    schema: Bool,
    parse: p.parseBoolean,
    default: 'false',
  }),
  OIDC_ALLOW_INSECURE_HTTP: setting({
    key: 'oidc.allowInsecureHttp',
    expect: BOOLEAN,
    schema: Bool,
    parse: p.parseBoolean,
    default: 'false',
  }),
  REDIS_URL: setting({
    key: 'redis.url',
    expect: URL_STRING,
    schema: Str,
    parse: net.parseRedisUrl,
    defaultDoc: 'none: in-memory store',
  }),
  REDIS_CLUSTER_NODES: setting({
    key: 'redis.clusterNodes',
    expect: HOST_PORTS,
    schema: List,
    parse: net.parseHostPorts,
    defaultDoc: 'none',
  }),
  REDIS_SENTINELS: setting({
    key: 'redis.sentinels',
    expect: HOST_PORTS,
    schema: List,
    parse: net.parseHostPorts,
    defaultDoc: 'none',
  }),
  REDIS_SENTINEL_NAME: string('redis.sentinelName'),
  REDIS_KEY_PREFIX: setting({
    key: 'redis.keyPrefix',
    expect: STRING,
    schema: Str,
    parse: p.parseKeyPrefix,
    default: 'bff:',
  }),
  SESSION_SECRET: setting({
    key: 'session.secret',
    expect: 'a list of secrets or a comma-separated string',
    schema: List,
    parse: p.parseSecrets,
    defaultDoc: 'required in production',
  }),
  TOKEN_ENCRYPTION_KEY: setting({
    key: 'tokens.encryptionKey',
    expect: 'a list of base64 keys or a comma-separated string',
    schema: List,
    parse: p.parseEncryptionKeys,
    defaultDoc: 'one key derived (HKDF-SHA256) from each `SESSION_SECRET` entry',
  }),
  SESSION_IDLE_TIMEOUT: duration('session.idleTimeout', { min: 1 }, '30m'),
  SESSION_MAX_AGE: duration('session.maxAge', { min: 1 }, '12h'),
  TOKEN_REFRESH_SKEW: duration('tokens.refreshSkew', { min: 0 }, '30s'),
  BFF_COOKIE_NAME: setting({
    key: 'session.cookieName',
    expect: STRING,
    schema: Str,
    parse: p.parseCookieName,
    defaultDoc: '`__Host-bff-session` (https) / `bff-session` (http)',
  }),
  COOKIE_SAMESITE: setting({
    key: 'session.sameSite',
    expect: 'strict or lax',
    schema: Str,
    parse: (v) => p.oneOf(v, ['strict', 'lax'] as const),
    default: 'strict',
  }),
  API_TARGET: setting({ expect: URL_STRING, schema: Str, parse: net.parseTarget, defaultDoc: 'none' }),
  RATE_LIMIT_LOGIN: setting({
    key: 'rateLimit.login',
    expect: 'a whole number of requests per minute (0: off)',
    schema: Num,
    parse: parseLoginRateLimit,
    default: '60',
  }),
  TRUST_PROXY: setting({
    key: 'trustProxy',
    expect: 'true, false, a hop count, or addresses (a string or a list)',
    schema: TrustProxy,
    parse: net.parseTrustProxy,
    default: 'false',
  }),
  FRONTEND_DIR: string('frontend.dir'),
  FRONTEND_URL: setting({
    key: 'frontend.url',
    expect: URL_STRING,
    schema: Str,
    parse: net.parseTarget,
    defaultDoc: 'none',
  }),
  METRICS_PORT: setting({
    key: 'metrics.port',
    expect: PORT,
    schema: Num,
    parse: (v) => p.parsePort(v, 1),
    defaultDoc: 'off',
  }),
  CONTENT_SECURITY_POLICY: setting({
    key: 'headers.contentSecurityPolicy',
    expect: 'a whole Content-Security-Policy string, or off',
    schema: Str,
    parse: parseContentSecurityPolicy,
    defaultDoc: 'strict',
  }),
  LOG_LEVEL: setting({
    key: 'logLevel',
    expect: LOG_LEVELS.join(', '),
    schema: Str,
    parse: (v) => p.oneOf(v, LOG_LEVELS),
    default: 'info',
  }),
  NODE_ENV: setting({
    expect: STRING,
    schema: Str,
    parse: (v: string) => v === 'production',
    defaultDoc: 'none',
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;
/** What a setting's parser returns. */
export type Parsed<N extends SettingName> = ReturnType<(typeof SETTINGS)[N]['parse']>;
/** What a setting's value may be before parsing (env: a string; the file: its shape). */
export type RawValue<N extends SettingName> = z.infer<(typeof SETTINGS)[N]['schema']>;

/** Every env variable the gateway reads, in table order. */
export const ENV_NAMES = Object.keys(SETTINGS) as SettingName[];

/** File key -> its setting's env name. */
export const BY_FILE_KEY: ReadonlyMap<string, SettingName> = new Map(
  ENV_NAMES.flatMap((name) => {
    const key = SETTINGS[name].key;
    return key === undefined ? [] : [[key, name] as const];
  }),
);
