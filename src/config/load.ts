/**
 * Builds the validated GatewayConfig from env, the optional BFF_CONFIG file and
 * defaults (env wins over the file, the file over defaults). Every problem is
 * a ConfigError with one line naming the variable (and file key) and the fix.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { parseDuration } from './duration.js';
import { loadClientPrivateKey } from './client-key.js';
import { ConfigError } from './errors.js';
import { parseIdTokenAlgs } from './id-token-algs.js';
import { Invalid } from './invalid.js';
import { parseContentSecurityPolicy } from './content-security-policy.js';
import { parseLoginRateLimit } from './rate-limit.js';
import type {
  ClientAuthMethod,
  GatewayConfig,
  HostPort,
  LogLevel,
  RedisConfig,
  RouteConfig,
  TokenType,
} from './types.js';

type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** HKDF parameters for deriving a token key from a session secret; changing them orphans stored tokens. */
const TOKEN_KEY_HKDF = { hash: 'sha256', salt: 'bff-token-encryption', info: 'v1', length: 32 } as const;

const DEFAULT_SCOPES = 'openid profile email offline_access';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const TOKEN_TYPES: readonly TokenType[] = ['user', 'client', 'optional', 'none'];
/** Authorization-request parameters the gateway sets itself; OIDC_AUTH_PARAMS may not override them. */
const GATEWAY_AUTH_PARAMS = [
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'redirect_uri',
  'response_type',
  'client_id',
  'scope',
];
/** Longest timer Node's setTimeout honours (2^31-1 ms); longer ones fire at once. */
const MAX_ROUTE_TIMEOUT_MS = 24 * 86_400_000;
const MAX_CLOCK_TOLERANCE_MS = 5 * 60_000;

const SECRET_HINT = 'generate one with `openssl rand -base64 48`';
const KEY_HINT = 'generate one with `openssl rand -base64 32`';

/** RFC 9110 token: HTTP methods and cookie names. */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6749 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

// ---------------------------------------------------------------------------
// The file's shape (zod checks structure and kinds; the parsers below check values)
// ---------------------------------------------------------------------------

const Str = z.string().nullish();
/** Numbers, ports and durations: YAML gives a number, a quoted value a string. */
const Num = z.union([z.number(), z.string()]).nullish();
const Bool = z.union([z.boolean(), z.string(), z.number()]).nullish();
const List = z.union([z.string(), z.array(z.string())]).nullish();
const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const OidcFile = z.strictObject({
  issuer: Str,
  clientId: Str,
  clientSecret: Str,
  clientAuth: Str,
  scopes: List,
  authParams: z.union([z.string(), z.record(z.string(), z.union([Scalar, z.array(Scalar)]))]).nullish(),
  clockTolerance: Num,
  allowInsecureHttp: Bool,
  idTokenAlgs: List,
  clientPrivateKey: Str,
  clientKeyId: Str,
});
const RedisFile = z.strictObject({
  url: Str,
  clusterNodes: List,
  sentinels: List,
  sentinelName: Str,
  keyPrefix: Str,
});
const SessionFile = z.strictObject({
  secret: List,
  idleTimeout: Num,
  maxAge: Num,
  cookieName: Str,
  sameSite: Str,
});
const TokensFile = z.strictObject({ encryptionKey: List, refreshSkew: Num });
const FrontendFile = z.strictObject({ dir: Str, url: Str });
const MetricsFile = z.strictObject({ port: Num });
const RateLimitFile = z.strictObject({ login: Num });
const HeadersFile = z.strictObject({ contentSecurityPolicy: Str });
const RouteFile = z.strictObject({
  prefix: Str,
  target: Str,
  token: Str,
  scopes: List,
  csrf: Bool,
  methods: List,
  websocket: Bool,
  timeout: Num,
});

const SECTIONS = {
  oidc: OidcFile,
  redis: RedisFile,
  session: SessionFile,
  tokens: TokensFile,
  frontend: FrontendFile,
  metrics: MetricsFile,
  rateLimit: RateLimitFile,
  headers: HeadersFile,
} as const;

const FileSchema = z.strictObject({
  port: Num,
  host: Str,
  publicUrl: Str,
  oidc: OidcFile.nullish(),
  redis: RedisFile.nullish(),
  session: SessionFile.nullish(),
  tokens: TokensFile.nullish(),
  trustProxy: z.union([z.boolean(), z.number(), z.string(), z.array(z.string())]).nullish(),
  frontend: FrontendFile.nullish(),
  metrics: MetricsFile.nullish(),
  rateLimit: RateLimitFile.nullish(),
  headers: HeadersFile.nullish(),
  logLevel: Str,
  routes: z.array(RouteFile).nullish(),
});

type FileConfig = z.infer<typeof FileSchema>;
type RouteFileEntry = z.infer<typeof RouteFile>;

const STRING = 'a string (quote it if YAML reads it as a number or boolean)';
const PORT = 'a port number';
const DURATION = 'a duration such as 90, 90s, 15m, 12h or 7d';
const BOOLEAN = 'true or false';
const URL_STRING = 'a URL string';

/** Every settable file key, the env variable that overrides it, and what it holds. */
const FILE_KEYS = {
  port: { env: 'PORT', expect: PORT },
  host: { env: 'HOST', expect: STRING },
  publicUrl: { env: 'BFF_PUBLIC_URL', expect: URL_STRING },
  'oidc.issuer': { env: 'OIDC_ISSUER', expect: URL_STRING },
  'oidc.clientId': { env: 'OIDC_CLIENT_ID', expect: STRING },
  'oidc.clientSecret': { env: 'OIDC_CLIENT_SECRET', expect: STRING },
  'oidc.clientAuth': {
    env: 'OIDC_CLIENT_AUTH',
    expect: 'client_secret_basic, client_secret_post or private_key_jwt',
  },
  'oidc.scopes': { env: 'OIDC_SCOPES', expect: 'a list of scopes or a space-separated string' },
  'oidc.authParams': {
    env: 'OIDC_AUTH_PARAMS',
    expect: 'a mapping of parameter names to strings (or lists of strings) or a URL-encoded string',
  },
  'oidc.clockTolerance': { env: 'OIDC_CLOCK_TOLERANCE', expect: DURATION },
  'oidc.allowInsecureHttp': { env: 'OIDC_ALLOW_INSECURE_HTTP', expect: BOOLEAN },
  'oidc.clientPrivateKey': { env: 'OIDC_CLIENT_PRIVATE_KEY', expect: 'a file path string' },
  'oidc.clientKeyId': { env: 'OIDC_CLIENT_KEY_ID', expect: STRING },
  'oidc.idTokenAlgs': {
    env: 'OIDC_ID_TOKEN_ALGS',
    expect: 'a list of algorithms or a comma-separated string',
  },
  'redis.url': { env: 'REDIS_URL', expect: URL_STRING },
  'redis.clusterNodes': {
    env: 'REDIS_CLUSTER_NODES',
    expect: 'a list of host:port or a comma-separated string',
  },
  'redis.sentinels': { env: 'REDIS_SENTINELS', expect: 'a list of host:port or a comma-separated string' },
  'redis.sentinelName': { env: 'REDIS_SENTINEL_NAME', expect: STRING },
  'redis.keyPrefix': { env: 'REDIS_KEY_PREFIX', expect: STRING },
  'session.secret': { env: 'SESSION_SECRET', expect: 'a list of secrets or a comma-separated string' },
  'session.idleTimeout': { env: 'SESSION_IDLE_TIMEOUT', expect: DURATION },
  'session.maxAge': { env: 'SESSION_MAX_AGE', expect: DURATION },
  'session.cookieName': { env: 'BFF_COOKIE_NAME', expect: STRING },
  'session.sameSite': { env: 'COOKIE_SAMESITE', expect: 'strict or lax' },
  'tokens.encryptionKey': {
    env: 'TOKEN_ENCRYPTION_KEY',
    expect: 'a list of base64 keys or a comma-separated string',
  },
  'tokens.refreshSkew': { env: 'TOKEN_REFRESH_SKEW', expect: DURATION },
  trustProxy: { env: 'TRUST_PROXY', expect: 'true, false, a hop count, or addresses (a string or a list)' },
  'frontend.dir': { env: 'FRONTEND_DIR', expect: STRING },
  'frontend.url': { env: 'FRONTEND_URL', expect: URL_STRING },
  'metrics.port': { env: 'METRICS_PORT', expect: PORT },
  'rateLimit.login': { env: 'RATE_LIMIT_LOGIN', expect: 'a whole number of requests per minute (0: off)' },
  'headers.contentSecurityPolicy': {
    env: 'CONTENT_SECURITY_POLICY',
    expect: 'a whole Content-Security-Policy string, or off',
  },
  logLevel: { env: 'LOG_LEVEL', expect: LOG_LEVELS.join(', ') },
} as const satisfies Record<string, { env: string; expect: string }>;

type FileKey = keyof typeof FILE_KEYS;

const ROUTE_FIELDS: Record<keyof RouteFileEntry, string> = {
  prefix: 'a path string such as /api/orders',
  target: URL_STRING,
  token: TOKEN_TYPES.join(', '),
  scopes: 'a list of scopes or a space-separated string',
  csrf: BOOLEAN,
  methods: 'a list of HTTP methods such as [GET, POST]',
  websocket: BOOLEAN,
  timeout: DURATION,
};

// ---------------------------------------------------------------------------
// Sources and errors
// ---------------------------------------------------------------------------

/** Where a value came from: what an error names. */
interface Source {
  variable: string;
  label: string;
  fileKey?: string;
}

interface Raw<T> {
  value: T;
  src: Source;
}

function fail(src: Source, problem: string): never {
  throw new ConfigError(src.variable, `${src.label} ${problem}`, src.fileKey);
}

/** Runs a value parser, turning its Invalid into a ConfigError naming the source. */
function at<T>(src: Source, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof Invalid) fail(src, err.message);
    throw err;
  }
}

function parseRequired<T, R>(raw: Raw<T>, parse: (value: T) => R): R {
  return at(raw.src, () => parse(raw.value));
}

function parseRaw<T, R>(raw: Raw<T> | undefined, parse: (value: T) => R): R | undefined {
  return raw === undefined ? undefined : parseRequired(raw, parse);
}

/** Quotes a value for a message, shortened so a pasted blob cannot flood the line. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** An env value, trimmed; empty counts as unset. */
function envValue(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

/** Reads one setting: env first, then the file. */
class Reader {
  constructor(
    private readonly env: Env,
    private readonly file: string | undefined,
  ) {}

  envHas(key: FileKey): boolean {
    return envValue(this.env, FILE_KEYS[key].env) !== undefined;
  }

  get<T>(key: FileKey, fromFile: T | null | undefined): Raw<string | T> | undefined {
    const variable = FILE_KEYS[key].env;
    const fromEnv = envValue(this.env, variable);
    if (fromEnv !== undefined) return { value: fromEnv, src: { variable, label: variable } };
    const value = typeof fromFile === 'string' ? fromFile.trim() : fromFile;
    if (value === undefined || value === null || value === '') return undefined;
    return {
      value,
      src: { variable, label: `${variable} (${key} in ${this.file ?? 'BFF_CONFIG'})`, fileKey: key },
    };
  }

  /** The one-line "X is required" error, mentioning the file key when there is a file. */
  missing(key: FileKey, fix: string): never {
    const variable = FILE_KEYS[key].env;
    const orFile = this.file === undefined ? '' : ` (or ${key} in ${this.file})`;
    throw new ConfigError(variable, `${variable} is required: set it${orFile} to ${fix}`);
  }
}

// ---------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------

function readConfigFile(file: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new ConfigError('BFF_CONFIG', `BFF_CONFIG file ${file} cannot be read (${reason}): check the path`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]?.replace(/:$/, '');
    throw new ConfigError('BFF_CONFIG', `BFF_CONFIG file ${file} is not valid YAML or JSON: ${reason}`);
  }
  const result = FileSchema.safeParse(data ?? {});
  if (!result.success) throw fileShapeError(result.error.issues[0], file);
  return result.data;
}

function formatKey(keyPath: readonly PropertyKey[]): string {
  return keyPath
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

/** Keys allowed at a path of the file, for the "unknown key" hint. */
function knownKeys(keyPath: readonly PropertyKey[]): string[] {
  const [first] = keyPath;
  if (first === undefined) return Object.keys(FileSchema.shape);
  if (first === 'routes') return Object.keys(RouteFile.shape);
  const section =
    typeof first === 'string' && first in SECTIONS ? SECTIONS[first as keyof typeof SECTIONS] : undefined;
  return section ? Object.keys(section.shape) : [];
}

/** Maps the first zod issue to the one-line message naming the key (and its env variable). */
function fileShapeError(issue: z.core.$ZodIssue | undefined, file: string): ConfigError {
  const keyPath = issue?.path ?? [];
  const key = formatKey(keyPath);
  if (issue?.code === 'unrecognized_keys') {
    const names = issue.keys.map((k) => (key === '' ? k : `${key}.${k}`));
    const known = knownKeys(keyPath).join(', ');
    return new ConfigError(
      'BFF_CONFIG',
      `BFF_CONFIG file ${file} has unknown key ${names.join(', ')}: check the spelling (known keys here: ${known})`,
      names[0],
    );
  }
  if (keyPath.length === 0) {
    return new ConfigError(
      'BFF_CONFIG',
      `BFF_CONFIG file ${file} must hold a mapping of settings (key: value)`,
    );
  }
  const [first, index, field] = keyPath;
  if (first === 'routes') {
    const expect =
      keyPath.length === 1
        ? 'a list of routes'
        : keyPath.length === 2
          ? 'a mapping with prefix, target, …'
          : (ROUTE_FIELDS[field as keyof RouteFileEntry] ?? 'valid');
    const label = formatKey(keyPath.slice(0, 3));
    return new ConfigError(
      'BFF_CONFIG',
      `${label} (in ${file}) must be ${expect}`,
      `routes[${String(index)}]`,
    );
  }
  // The longest known key the issue sits under (authParams values are one level deeper).
  for (let n = keyPath.length; n > 0; n--) {
    const candidate = formatKey(keyPath.slice(0, n));
    if (candidate in FILE_KEYS) {
      const { env, expect } = FILE_KEYS[candidate as FileKey];
      return new ConfigError(env, `${env} (${candidate} in ${file}) must be ${expect}`, candidate);
    }
  }
  return new ConfigError('BFF_CONFIG', `${key} (in ${file}) must be a mapping of settings`, key);
}

// ---------------------------------------------------------------------------
// Value parsers: each throws Invalid with "must …: fix"
// ---------------------------------------------------------------------------

function parsePort(value: string | number, min: 0 | 1): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw new Invalid(`must be a port number ${min}-65535 (got ${show(value)})`);
  }
  return n;
}

function parseBoolean(value: string | number | boolean): boolean {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (text === 'true' || text === '1' || text === 'yes') return true;
  if (text === 'false' || text === '0' || text === 'no') return false;
  throw new Invalid(`must be true or false (got ${show(value)}; 1/0 and yes/no are accepted too)`);
}

function parseDurationMs(
  value: string | number,
  limits: { min: 0 | 1; max?: number; maxText?: string },
): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw new Invalid(`must be a duration such as 90, 90s, 15m, 12h or 7d (got ${show(value)})`);
  }
  if (ms < limits.min) throw new Invalid(`must be greater than 0 (got ${show(value)})`);
  if (limits.max !== undefined && ms > limits.max) {
    throw new Invalid(`must be at most ${limits.maxText ?? `${limits.max / 1000}s`} (got ${show(value)})`);
  }
  return ms;
}

/** A list from a YAML list or a separated string, entries trimmed, empty entries dropped. */
function toList(value: string | readonly string[], separator: RegExp): string[] {
  const items = typeof value === 'string' ? value.split(separator) : value;
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

function dedupe(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function parseScopes(value: string | readonly string[], requireOpenid: boolean): string[] {
  const scopes = dedupe(toList(value, /\s+/));
  const bad = scopes.find((scope) => !SCOPE_TOKEN.test(scope));
  if (bad !== undefined) {
    throw new Invalid(
      `has an invalid scope ${show(bad)}: scopes are separated by spaces, without quotes or backslashes`,
    );
  }
  if (requireOpenid && !scopes.includes('openid')) {
    throw new Invalid(`must include openid (got ${show(scopes.join(' '))}): add it, separated by spaces`);
  }
  return scopes;
}

type ParamValue = string | number | boolean;

function parseAuthParams(value: string | Record<string, ParamValue | ParamValue[]>): [string, string][] {
  const pairs: [string, string][] =
    typeof value === 'string'
      ? [...new URLSearchParams(value)]
      : Object.entries(value).flatMap(([name, v]) =>
          (Array.isArray(v) ? v : [v]).map((item): [string, string] => [name, String(item)]),
        );
  for (const [name] of pairs) {
    if (name.trim() === '')
      throw new Invalid('has a parameter without a name: write name=value pairs joined by &');
    if (GATEWAY_AUTH_PARAMS.includes(name.trim().toLowerCase())) {
      throw new Invalid(`must not set ${name}: the gateway sets that parameter itself, remove it`);
    }
  }
  return pairs;
}

function parseUrl(text: string, expect: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new Invalid(`must be ${expect} (got ${show(text)})`);
  }
}

/** An absolute http(s) URL without query, fragment or credentials. */
function parseHttpUrl(text: string): URL {
  const url = parseUrl(text, 'an absolute http:// or https:// URL');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Invalid(`must be an http:// or https:// URL (got ${show(text)})`);
  }
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(text)) {
    throw new Invalid(`must not have a query or fragment (got ${show(text)})`);
  }
  if (url.username !== '' || url.password !== '')
    throw new Invalid('must not contain a user name or password');
  return url;
}

/** Origin plus path without trailing slash: the form proxy targets are stored in. */
function parseTarget(text: string): string {
  const url = parseHttpUrl(text);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && host === '::1';
}

function parseHostPort(entry: string): HostPort {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:[\]/\s]+):(\d+)$/.exec(entry);
  const [, host, port] = match ?? [];
  const bracketed = entry.startsWith('[');
  if (host === undefined || port === undefined || (bracketed && isIP(host) !== 6)) {
    throw new Invalid(`has ${show(entry)}, expected host:port (IPv6 as [::1]:7000)`);
  }
  const n = Number(port);
  if (n < 1 || n > 65535) throw new Invalid(`has ${show(entry)}, whose port is not 1-65535`);
  return { host, port: n };
}

function parseHostPorts(value: string | readonly string[]): HostPort[] {
  const entries = toList(value, /[\s,]+/);
  if (entries.length === 0) throw new Invalid('must list at least one host:port');
  return entries.map(parseHostPort);
}

function parseSecrets(value: string | readonly string[]): string[] {
  const secrets = toList(value, /,/);
  if (secrets.length === 0) throw new Invalid(`must hold at least one secret: ${SECRET_HINT}`);
  secrets.forEach((secret, i) => {
    if (secret.length < 32) {
      throw new Invalid(
        `entry ${i + 1} has ${secret.length} characters, at least 32 are needed: ${SECRET_HINT}`,
      );
    }
  });
  return secrets;
}

function parseEncryptionKeys(value: string | readonly string[]): Buffer[] {
  const entries = toList(value, /,/);
  if (entries.length === 0) throw new Invalid(`must hold at least one key: ${KEY_HINT}`);
  return entries.map((entry, i) => {
    // Buffer's base64 decoder reads the url-safe alphabet too.
    const key = BASE64.test(entry) ? Buffer.from(entry, 'base64') : undefined;
    if (key === undefined) throw new Invalid(`entry ${i + 1} is not base64: ${KEY_HINT}`);
    if (key.length !== 32) {
      throw new Invalid(`entry ${i + 1} decodes to ${key.length} bytes, exactly 32 are needed: ${KEY_HINT}`);
    }
    return key;
  });
}

/** The default token key for a session secret (HKDF-SHA256), so one SESSION_SECRET is enough. */
export function deriveTokenKey(secret: string): Buffer {
  const { hash, salt, info, length } = TOKEN_KEY_HKDF;
  return Buffer.from(hkdfSync(hash, secret, salt, info, length));
}

/** proxy-addr's named ranges, an IP, or IP/prefix-or-netmask: checked here so Express cannot throw later. */
function isTrustEntry(entry: string): boolean {
  if (entry === 'loopback' || entry === 'linklocal' || entry === 'uniquelocal') return true;
  const [address = '', range, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return isIP(range) === family;
}

function parseTrustProxy(value: string | number | boolean | readonly string[]): boolean | number | string {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Invalid(`must be a hop count of 0 or more (got ${value})`);
    return value;
  }
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true' || lower === 'false') return lower === 'true';
    if (/^\d+$/.test(value)) return Number(value);
  }
  const entries = toList(value, /,/);
  const bad = entries.find((entry) => !isTrustEntry(entry));
  if (entries.length === 0 || bad !== undefined) {
    throw new Invalid(
      `must be true, false, a hop count, or comma-separated loopback/linklocal/uniquelocal, IPs and CIDRs (got ${show(bad ?? value)})`,
    );
  }
  return entries.join(',');
}

function parsePrefix(text: string): string {
  if (!text.startsWith('/')) throw new Invalid(`must start with / (got ${show(text)})`);
  if (text.includes('%'))
    throw new Invalid(`must not contain % (got ${show(text)}): write the path unencoded`);
  if (/[\p{Cc}\s?#\\]/u.test(text)) {
    throw new Invalid(`must be a plain path without spaces, ?, # or \\ (got ${show(text)})`);
  }
  const prefix = text.replace(/\/+$/, '') || '/';
  const segments = prefix === '/' ? [] : prefix.split('/').slice(1);
  if (segments.includes('')) throw new Invalid(`must not contain an empty segment // (got ${show(text)})`);
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new Invalid(`must not contain . or .. segments (got ${show(text)})`);
  }
  const lower = prefix.toLowerCase();
  if (lower === '/auth' || lower.startsWith('/auth/')) {
    throw new Invalid(`must not be /auth or under it (got ${show(text)}): those paths belong to the gateway`);
  }
  return prefix;
}

function parseMethods(value: string | readonly string[]): string[] {
  const methods = dedupe(toList(value, /[\s,]+/).map((m) => m.toUpperCase()));
  if (methods.length === 0)
    throw new Invalid('must list at least one method (leave it out to allow every method)');
  const bad = methods.find((m) => !HTTP_TOKEN.test(m));
  if (bad !== undefined) throw new Invalid(`has an invalid HTTP method ${show(bad)}`);
  return methods;
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): T {
  const lower = value.toLowerCase();
  const found = allowed.find((a) => a === lower);
  if (found === undefined) throw new Invalid(`must be one of ${allowed.join(', ')} (got ${show(value)})`);
  return found;
}

function requireString(value: string, what: string): string {
  if (/\s/.test(value)) throw new Invalid(`must be ${what} without spaces (got ${show(value)})`);
  return value;
}

// ---------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------

interface Context {
  r: Reader;
  env: Env;
  file: FileConfig;
  filePath: string | undefined;
  production: boolean;
  warnings: string[];
}

function loadPublicUrl(ctx: Context, port: number): string {
  const raw = ctx.r.get('publicUrl', ctx.file.publicUrl) ?? {
    value: `http://localhost:${port}`,
    src: { variable: 'BFF_PUBLIC_URL', label: 'BFF_PUBLIC_URL (default)' },
  };
  const url = at(raw.src, () => {
    const parsed = parseHttpUrl(raw.value);
    if (parsed.pathname !== '/') {
      throw new Invalid(
        `must be an origin only, without a path (got ${show(raw.value)}): the gateway serves at /`,
      );
    }
    return parsed;
  });
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    if (ctx.production) {
      fail(
        raw.src,
        `must be https when NODE_ENV=production (got ${show(raw.value)}): http cookies cannot be Secure`,
      );
    }
    ctx.warnings.push(
      `BFF_PUBLIC_URL ${url.origin} is plain http on a non-loopback host: cookies are not Secure; use https outside development`,
    );
  }
  return url.origin;
}

function loadOidc(ctx: Context): GatewayConfig['oidc'] {
  const { r, warnings } = ctx;
  const f = ctx.file.oidc;

  const allowInsecureHttp =
    parseRaw(r.get('oidc.allowInsecureHttp', f?.allowInsecureHttp), parseBoolean) ?? false;

  const issuerRaw =
    r.get('oidc.issuer', f?.issuer) ??
    r.missing('oidc.issuer', "your OpenID Provider's issuer URL (e.g. https://login.example.com)");
  const issuer = at(issuerRaw.src, () => {
    const url = parseHttpUrl(issuerRaw.value);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      if (!allowInsecureHttp) {
        throw new Invalid(
          `must use https (got ${show(issuerRaw.value)}): use the provider's https issuer, or set OIDC_ALLOW_INSECURE_HTTP=true on a trusted network`,
        );
      }
      warnings.push(
        `OIDC_ISSUER ${issuerRaw.value} is plain http (allowed by OIDC_ALLOW_INSECURE_HTTP): tokens travel unencrypted`,
      );
    }
    return issuerRaw.value;
  });

  const clientIdRaw =
    r.get('oidc.clientId', f?.clientId) ??
    r.missing('oidc.clientId', 'the client id registered at your OpenID Provider');
  const clientId = clientIdRaw.value;

  const secretRaw = r.get('oidc.clientSecret', f?.clientSecret);
  const authRaw = r.get('oidc.clientAuth', f?.clientAuth);
  const keyRaw = r.get('oidc.clientPrivateKey', f?.clientPrivateKey);
  const keyId = r.get('oidc.clientKeyId', f?.clientKeyId)?.value;
  const clientAuth: ClientAuthMethod =
    parseRaw(authRaw, (v) =>
      oneOf(v, ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const),
    ) ??
    (keyRaw !== undefined ? 'private_key_jwt' : secretRaw !== undefined ? 'client_secret_basic' : 'none');
  if (clientAuth === 'private_key_jwt' && keyRaw === undefined) {
    throw new ConfigError(
      'OIDC_CLIENT_PRIVATE_KEY',
      `OIDC_CLIENT_PRIVATE_KEY is required because ${authRaw?.src.label ?? 'OIDC_CLIENT_AUTH'} is private_key_jwt: set it to the path of the client's PEM or JWK private key`,
    );
  }
  if (clientAuth.startsWith('client_secret') && secretRaw === undefined) {
    throw new ConfigError(
      'OIDC_CLIENT_SECRET',
      `OIDC_CLIENT_SECRET is required because ${authRaw?.src.label ?? 'OIDC_CLIENT_AUTH'} is set: set the client secret, or unset ${authRaw?.src.variable ?? 'OIDC_CLIENT_AUTH'} for a public client`,
    );
  }
  if (clientAuth === 'none') {
    warnings.push(
      'OIDC_CLIENT_SECRET is not set: acting as a public client (token endpoint auth "none"); PKCE still protects the code, but set the secret if the provider issued one',
    );
  }
  // Parsed whenever set, so a broken key stops start-up even while another method is chosen.
  const clientPrivateKey = parseRaw(keyRaw, (file) => loadClientPrivateKey(file, keyId));

  const scopes =
    parseRaw(r.get('oidc.scopes', f?.scopes), (v) => parseScopes(v, true)) ?? DEFAULT_SCOPES.split(' ');
  const authParams = parseRaw(r.get('oidc.authParams', f?.authParams), parseAuthParams) ?? [];
  const clockToleranceMs =
    parseRaw(r.get('oidc.clockTolerance', f?.clockTolerance), (v) =>
      parseDurationMs(v, { min: 0, max: MAX_CLOCK_TOLERANCE_MS, maxText: '5m' }),
    ) ?? 5_000;

  return {
    issuer,
    clientId,
    clientSecret: secretRaw?.value,
    clientAuth,
    clientPrivateKey: clientAuth === 'private_key_jwt' ? clientPrivateKey : undefined,
    scopes,
    authParams,
    clockToleranceSec: Math.floor(clockToleranceMs / 1000),
    allowInsecureHttp,
    idTokenAlgs: parseRaw(r.get('oidc.idTokenAlgs', f?.idTokenAlgs), parseIdTokenAlgs),
  };
}

function loadRedis(ctx: Context): RedisConfig {
  const { r } = ctx;
  const f = ctx.file.redis;
  const keyPrefix =
    parseRaw(r.get('redis.keyPrefix', f?.keyPrefix), (v) => {
      if (/[\s{}]/.test(v)) {
        throw new Invalid(
          `must not contain spaces, { or } (got ${show(v)}): braces would break Redis Cluster hash tags`,
        );
      }
      return v;
    }) ?? 'bff:';

  // The mode is chosen as a whole: when env picks one, the file's mode keys are ignored.
  const envChoseMode = r.envHas('redis.url') || r.envHas('redis.clusterNodes') || r.envHas('redis.sentinels');
  const fromFile = <T>(value: T): T | undefined => (envChoseMode ? undefined : value);
  const url = r.get('redis.url', fromFile(f?.url));
  const nodes = r.get('redis.clusterNodes', fromFile(f?.clusterNodes));
  const sentinels = r.get('redis.sentinels', fromFile(f?.sentinels));
  const envChoseOther = envChoseMode && !r.envHas('redis.sentinels');
  const name = r.get('redis.sentinelName', envChoseOther ? undefined : f?.sentinelName);

  const chosen = [url, nodes, sentinels].filter((raw) => raw !== undefined);
  const [first, second] = chosen;
  if (first !== undefined && second !== undefined) {
    throw new ConfigError(
      first.src.variable,
      `${chosen.map((raw) => raw.src.label).join(' and ')} are set together: choose one of REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS`,
    );
  }
  if (name !== undefined && sentinels === undefined) {
    fail(
      name.src,
      'is set but REDIS_SENTINELS is not: set REDIS_SENTINELS to the sentinels host:port list, or unset it',
    );
  }

  if (url !== undefined) {
    at(url.src, () => {
      // The URL may hold a password: never echo it.
      const parsed = parseUrl(url.value, 'a redis:// or rediss:// URL (e.g. redis://localhost:6379)');
      if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
        throw new Invalid(`must start with redis:// or rediss:// (got ${parsed.protocol}//…)`);
      }
      if (parsed.hostname === '') throw new Invalid('must name a host (e.g. redis://localhost:6379)');
    });
    return { mode: 'standalone', url: url.value, keyPrefix };
  }
  if (nodes !== undefined)
    return { mode: 'cluster', nodes: at(nodes.src, () => parseHostPorts(nodes.value)), keyPrefix };
  if (sentinels !== undefined) {
    const hosts = at(sentinels.src, () => parseHostPorts(sentinels.value));
    const sentinelName =
      name?.value ??
      fail(
        { variable: 'REDIS_SENTINEL_NAME', label: 'REDIS_SENTINEL_NAME' },
        `is required with ${sentinels.src.label}: set it to the monitored master's name (e.g. mymaster)`,
      );
    return { mode: 'sentinel', sentinels: hosts, name: sentinelName, keyPrefix };
  }

  if (ctx.production) {
    throw new ConfigError(
      'REDIS_URL',
      'REDIS_URL is required when NODE_ENV=production (the in-memory store loses sessions on restart and is not shared): set REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS',
    );
  }
  ctx.warnings.push(
    'No REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS: sessions are kept IN MEMORY, lost on restart and not shared between instances; never run this in production',
  );
  return { mode: 'memory', keyPrefix };
}

function loadSecrets(ctx: Context): { secrets: string[]; generated: boolean } {
  const secrets = parseRaw(ctx.r.get('session.secret', ctx.file.session?.secret), parseSecrets);
  if (secrets !== undefined) return { secrets, generated: false };
  if (ctx.production) {
    throw new ConfigError(
      'SESSION_SECRET',
      `SESSION_SECRET is required when NODE_ENV=production: ${SECRET_HINT} (comma-separate several to rotate; the first signs)`,
    );
  }
  ctx.warnings.push(
    'SESSION_SECRET is not set: using a random secret for this process, so sessions do not survive a restart; set SESSION_SECRET (`openssl rand -base64 48`)',
  );
  return { secrets: [randomBytes(32).toString('base64url')], generated: true };
}

function loadSession(
  ctx: Context,
  publicUrl: string,
  secrets: { secrets: string[]; generated: boolean },
): GatewayConfig['session'] {
  const { r } = ctx;
  const f = ctx.file.session;
  const https = publicUrl.startsWith('https:');
  const loginCookieName = https ? '__Host-bff-login' : 'bff-login';

  const cookieName =
    parseRaw(r.get('session.cookieName', f?.cookieName), (name) => {
      if (!HTTP_TOKEN.test(name))
        throw new Invalid(
          `must be a valid cookie name (letters, digits, !#$%&'*+-.^_\`|~; got ${show(name)})`,
        );
      const prefix = /^__(host|secure)-/i.exec(name)?.[0];
      if (prefix !== undefined && !https) {
        throw new Invalid(
          `starts with ${prefix}, which browsers accept only over https: use an https BFF_PUBLIC_URL or another name`,
        );
      }
      if (name === loginCookieName) throw new Invalid(`must differ from the login cookie ${loginCookieName}`);
      return name;
    }) ?? (https ? '__Host-bff-session' : 'bff-session');
  // Only __Host- keeps a sibling subdomain from planting the cookie (Domain=parent): cookie tossing.
  if (https && !/^__Host-/i.test(cookieName)) {
    ctx.warnings.push(
      `BFF_COOKIE_NAME ${cookieName} has no __Host- prefix: under https a sibling subdomain can plant (toss) this cookie; use __Host-${cookieName.replace(/^__secure-/i, '')}`,
    );
  }

  return {
    secrets: secrets.secrets,
    secretsGenerated: secrets.generated,
    idleTimeoutMs:
      parseRaw(r.get('session.idleTimeout', f?.idleTimeout), (v) => parseDurationMs(v, { min: 1 })) ??
      30 * 60_000,
    maxAgeMs:
      parseRaw(r.get('session.maxAge', f?.maxAge), (v) => parseDurationMs(v, { min: 1 })) ?? 12 * 3_600_000,
    cookieName,
    loginCookieName,
    sameSite:
      parseRaw(r.get('session.sameSite', f?.sameSite), (v) => oneOf(v, ['strict', 'lax'] as const)) ??
      'strict',
    secure: https,
  };
}

function loadTokens(ctx: Context, secrets: string[]): GatewayConfig['tokens'] {
  const f = ctx.file.tokens;
  return {
    encryptionKeys:
      parseRaw(ctx.r.get('tokens.encryptionKey', f?.encryptionKey), parseEncryptionKeys) ??
      secrets.map(deriveTokenKey),
    refreshSkewMs:
      parseRaw(ctx.r.get('tokens.refreshSkew', f?.refreshSkew), (v) => parseDurationMs(v, { min: 0 })) ??
      30_000,
  };
}

function loadFrontend(ctx: Context): GatewayConfig['frontend'] {
  const { r, filePath } = ctx;
  const f = ctx.file.frontend;
  // Like the Redis mode, env picks the frontend as a whole.
  const envChose = r.envHas('frontend.dir') || r.envHas('frontend.url');
  const dir = r.get('frontend.dir', envChose ? undefined : f?.dir);
  const url = r.get('frontend.url', envChose ? undefined : f?.url);
  if (dir !== undefined && url !== undefined) {
    throw new ConfigError(
      dir.src.variable,
      `${dir.src.label} and ${url.src.label} are both set: serve a built SPA with FRONTEND_DIR or proxy a dev server with FRONTEND_URL, not both`,
    );
  }
  return {
    dir: parseRaw(dir, (value) => {
      // A relative path in the file is relative to the file, in env to the working directory.
      const base =
        dir?.src.fileKey !== undefined && filePath !== undefined
          ? path.dirname(path.resolve(filePath))
          : process.cwd();
      const absolute = path.resolve(base, value);
      const stat = statOrUndefined(absolute);
      if (stat === undefined)
        throw new Invalid(`points to ${absolute}, which does not exist: build the SPA or fix the path`);
      if (!stat.isDirectory()) throw new Invalid(`points to ${absolute}, which is not a directory`);
      return absolute;
    }),
    url: parseRaw(url, parseTarget),
  };
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined; // missing, or a path through a file: either way not a usable directory
  }
}

function loadRoute(entry: RouteFileEntry, i: number, file: string): RouteConfig {
  const src = (field: keyof RouteFileEntry): Source => ({
    variable: 'BFF_CONFIG',
    label: `routes[${i}].${field} (in ${file})`,
    fileKey: `routes[${i}].${field}`,
  });
  const field = <K extends keyof RouteFileEntry>(
    name: K,
  ): Raw<NonNullable<RouteFileEntry[K]>> | undefined => {
    const raw = entry[name];
    const value = typeof raw === 'string' ? (raw.trim() as typeof raw) : raw;
    return value === undefined || value === null || value === '' ? undefined : { value, src: src(name) };
  };
  const required = (name: 'prefix' | 'target', example: string): Raw<string> =>
    field(name) ?? fail(src(name), `is required: set it (e.g. ${name}: ${example})`);

  const methods = parseRaw(field('methods'), parseMethods);
  return {
    prefix: parseRequired(required('prefix', '/api/orders'), parsePrefix),
    target: parseRequired(required('target', 'http://orders:8080/v1'), parseTarget),
    token: parseRaw(field('token'), (v) => oneOf(v, TOKEN_TYPES)) ?? 'user',
    scopes: parseRaw(field('scopes'), (v) => parseScopes(v, false)) ?? [],
    csrf: parseRaw(field('csrf'), parseBoolean) ?? true,
    methods,
    websocket: parseRaw(field('websocket'), parseBoolean) ?? false,
    timeoutMs:
      parseRaw(field('timeout'), (v) =>
        parseDurationMs(v, { min: 1, max: MAX_ROUTE_TIMEOUT_MS, maxText: '24d' }),
      ) ?? 30_000,
  };
}

function loadRoutes(ctx: Context): RouteConfig[] {
  const file = ctx.filePath ?? 'BFF_CONFIG';
  const routes = (ctx.file.routes ?? []).map((entry, i) => loadRoute(entry, i, file));
  const seen = new Map<string, number>();
  routes.forEach((route, i) => {
    const earlier = seen.get(route.prefix);
    if (earlier !== undefined) {
      throw new ConfigError(
        'BFF_CONFIG',
        `routes[${i}].prefix (in ${file}) repeats routes[${earlier}].prefix ${route.prefix}: merge the two routes or change one prefix`,
        `routes[${i}].prefix`,
      );
    }
    seen.set(route.prefix, i);
  });

  const apiTarget = envValue(ctx.env, 'API_TARGET');
  if (apiTarget !== undefined) {
    const apiRoute: RouteConfig = {
      prefix: '/api',
      target: at({ variable: 'API_TARGET', label: 'API_TARGET' }, () => parseTarget(apiTarget)),
      token: 'user',
      scopes: [],
      csrf: true,
      methods: undefined,
      websocket: false,
      timeoutMs: 30_000,
    };
    const existing = routes.findIndex((route) => route.prefix === '/api');
    if (existing === -1) routes.push(apiRoute);
    else routes[existing] = apiRoute;
  }
  return routes;
}

// ---------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------

/**
 * Resolves the gateway configuration. Pure apart from reading the BFF_CONFIG
 * file and checking that FRONTEND_DIR exists. Throws ConfigError.
 */
export function loadConfig(env: Env): GatewayConfig {
  const filePath = envValue(env, 'BFF_CONFIG');
  const file = filePath === undefined ? {} : readConfigFile(filePath);
  const r = new Reader(env, filePath);
  const ctx: Context = {
    r,
    env,
    file,
    filePath,
    production: env.NODE_ENV?.trim() === 'production',
    warnings: [],
  };

  const port = parseRaw(r.get('port', file.port), (v) => parsePort(v, 0)) ?? 3000;
  const host =
    parseRaw(r.get('host', file.host), (v) => requireString(v, 'a host name or address')) ?? '0.0.0.0';
  const publicUrl = loadPublicUrl(ctx, port);
  const oidc = loadOidc(ctx);
  const redis = loadRedis(ctx);
  const secrets = loadSecrets(ctx);
  const session = loadSession(ctx, publicUrl, secrets);
  const tokens = loadTokens(ctx, secrets.secrets);
  const trustProxy = parseRaw(r.get('trustProxy', file.trustProxy), parseTrustProxy) ?? false;
  const frontend = loadFrontend(ctx);

  const metricsPort = parseRaw(r.get('metrics.port', file.metrics?.port), (v) => {
    const n = parsePort(v, 1);
    if (n === port && port !== 0)
      throw new Invalid(`must differ from PORT (${port}): pick another port for /metrics`);
    return n;
  });
  const loginRateLimit = parseRaw(r.get('rateLimit.login', file.rateLimit?.login), parseLoginRateLimit) ?? 60;
  const contentSecurityPolicy = parseRaw(
    r.get('headers.contentSecurityPolicy', file.headers?.contentSecurityPolicy),
    parseContentSecurityPolicy,
  );
  const logLevel = parseRaw(r.get('logLevel', file.logLevel), (v) => oneOf(v, LOG_LEVELS)) ?? 'info';

  return {
    production: ctx.production,
    port,
    host,
    publicUrl,
    redirectUri: `${publicUrl}/auth/callback`,
    oidc,
    redis,
    session,
    tokens,
    trustProxy,
    frontend,
    metrics: { port: metricsPort },
    rateLimit: { login: loginRateLimit },
    headers: { contentSecurityPolicy },
    logLevel,
    routes: loadRoutes(ctx),
    warnings: ctx.warnings,
  };
}
