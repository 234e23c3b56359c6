/**
 * Pure value parsers for settings: each takes what env (a string) or the file (a YAML value) gives
 * and returns the value, or throws Invalid with "must …: fix" (the caller prefixes the source).
 * Network-shaped values (URLs, host:port, trust proxy) are in parsers-net.ts.
 */
import { parseDuration } from './duration.js';
import { Invalid } from './invalid.js';

export const SECRET_HINT = 'generate one with `openssl rand -base64 48`';
export const KEY_HINT = 'generate one with `openssl rand -base64 32`';

/** RFC 9110 token: HTTP methods and cookie names. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6749 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Authorization-request parameters the gateway sets itself; OIDC_AUTH_PARAMS may not override them. */
export const GATEWAY_AUTH_PARAMS = [
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'redirect_uri',
  'response_type',
  'client_id',
  'scope',
];

/** Quotes a value for a message, shortened so a pasted blob cannot flood the line. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function parsePort(value: string | number, min: 0 | 1): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw new Invalid(`must be a port number ${min}-65535 (got ${show(value)})`);
  }
  return n;
}

export function parseBoolean(value: string | number | boolean): boolean {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (text === 'true' || text === '1' || text === 'yes') return true;
  if (text === 'false' || text === '0' || text === 'no') return false;
  throw new Invalid(`must be true or false (got ${show(value)}; 1/0 and yes/no are accepted too)`);
}

export interface DurationLimits {
  min: 0 | 1;
  max?: number;
  /** How the maximum is written in the message, e.g. `5m`. */
  maxText?: string;
}

/** A duration (see duration.ts) in milliseconds, within limits. */
export function parseDurationMs(value: string | number, limits: DurationLimits): number {
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
export function toList(value: string | readonly string[], separator: RegExp): string[] {
  const items = typeof value === 'string' ? value.split(separator) : value;
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

function dedupe(items: readonly string[]): string[] {
  return [...new Set(items)];
}

export function parseScopes(value: string | readonly string[], requireOpenid: boolean): string[] {
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

/** OIDC_AUTH_PARAMS: a URL-encoded string or a mapping, into ordered pairs (repeats allowed). */
export function parseAuthParams(
  value: string | Record<string, ParamValue | ParamValue[]>,
): [string, string][] {
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

/** SESSION_SECRET: comma-separated, 32+ characters each; never echoed. */
export function parseSecrets(value: string | readonly string[]): string[] {
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

/** TOKEN_ENCRYPTION_KEY: comma-separated base64 (standard or url-safe) 32-byte keys; never echoed. */
export function parseEncryptionKeys(value: string | readonly string[]): Buffer[] {
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

/** Route methods: a list or a comma/space-separated string, upper-cased and deduplicated. */
export function parseMethods(value: string | readonly string[]): string[] {
  const methods = dedupe(toList(value, /[\s,]+/).map((m) => m.toUpperCase()));
  if (methods.length === 0)
    throw new Invalid('must list at least one method (leave it out to allow every method)');
  const bad = methods.find((m) => !HTTP_TOKEN.test(m));
  if (bad !== undefined) throw new Invalid(`has an invalid HTTP method ${show(bad)}`);
  return methods;
}

/** One of a fixed set of words, case-insensitively. */
export function oneOf<T extends string>(value: string, allowed: readonly T[]): T {
  const lower = value.toLowerCase();
  const found = allowed.find((a) => a === lower);
  if (found === undefined) throw new Invalid(`must be one of ${allowed.join(', ')} (got ${show(value)})`);
  return found;
}

/** A word without whitespace, e.g. a host name. */
export function requireString(value: string, what: string): string {
  if (/\s/.test(value)) throw new Invalid(`must be ${what} without spaces (got ${show(value)})`);
  return value;
}

/** REDIS_KEY_PREFIX: braces would make every key one Redis Cluster hash tag. */
export function parseKeyPrefix(value: string): string {
  if (/[\s{}]/.test(value)) {
    throw new Invalid(
      `must not contain spaces, { or } (got ${show(value)}): braces would break Redis Cluster hash tags`,
    );
  }
  return value;
}

/** BFF_COOKIE_NAME's own shape (whether its prefix fits the public URL is checked by the section). */
export function parseCookieName(name: string): string {
  if (!HTTP_TOKEN.test(name))
    throw new Invalid(`must be a valid cookie name (letters, digits, !#$%&'*+-.^_\`|~; got ${show(name)})`);
  return name;
}
