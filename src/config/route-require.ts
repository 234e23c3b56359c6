/**
 * A route's `require` (its policy) as written in the file: `claims` (claim -> allowed values), `acr`
 * (allowed values) and `maxAge` (a duration). A bad policy must stop start-up naming the exact key
 * (`routes[2].require.claims.groups`), so problems below the field carry their sub-key.
 */
import { Invalid } from './invalid.js';
import { parseDurationMs, show } from './parsers.js';
import type { ClaimValue, RoutePolicy } from './types.js';

/** A problem at a key below the route field, e.g. `claims.groups` under `require`. */
export class InvalidAt extends Invalid {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

export const REQUIRE_EXPECT = 'a mapping with claims, acr and/or maxAge';
const KEYS = ['claims', 'acr', 'maxAge'];
/**
 * The step-up login sends these as `acr_values`: the form /auth/login keeps (oidc/login-options.ts:
 * printable ASCII without space, `"` and `\`, at most 10 values and 512 characters), so that a route's
 * own `loginUrl` is never cut down on the way to the IdP.
 */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;
const MAX_ACR_VALUES = 10;
const MAX_ACR_LENGTH = 512;
/** max_age is at most 999999999 s at /auth/login; a year is already far beyond any session's life. */
const MAX_MAX_AGE_MS = 366 * 86_400_000;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const unset = (value: unknown): boolean => value === undefined || value === null;

export function parseRoutePolicy(value: unknown): RoutePolicy {
  if (!isMapping(value)) throw new Invalid(`must be ${REQUIRE_EXPECT} (got ${show(value)})`);
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) throw new InvalidAt(key, `is not a policy key: use ${KEYS.join(', ')}`);
  }
  const policy: RoutePolicy = {
    claims: unset(value.claims) ? [] : parseClaims(value.claims),
    acr: unset(value.acr) ? undefined : parseAcr(value.acr),
    maxAgeMs: unset(value.maxAge) ? undefined : parseMaxAge(value.maxAge),
  };
  if (policy.claims.length === 0 && policy.acr === undefined && policy.maxAgeMs === undefined) {
    throw new Invalid('must set claims, acr or maxAge (or be left out)');
  }
  return policy;
}

function parseClaims(value: unknown): [string, ClaimValue[]][] {
  if (!isMapping(value) || Object.keys(value).length === 0) {
    throw new InvalidAt(
      'claims',
      `must be a mapping of claim names to allowed values, e.g. groups: [admins] (got ${show(value)})`,
    );
  }
  return Object.entries(value).map(([name, allowed]) => {
    const key = `claims.${name}`;
    if (name.trim() === '') throw new InvalidAt(key, 'must be a claim name');
    // One value may be written without the list.
    const list: unknown[] = Array.isArray(allowed) ? allowed : [allowed];
    if (list.length === 0) throw new InvalidAt(key, 'must list at least one allowed value');
    for (const v of list) {
      const ok =
        typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      if (!ok) {
        throw new InvalidAt(key, `must be a list of strings, numbers or booleans (got ${show(allowed)})`);
      }
    }
    return [name, list as ClaimValue[]];
  });
}

function parseAcr(value: unknown): string[] {
  // A string is a space-separated list; YAML reads acr levels such as 1 or 2 as numbers.
  const items: unknown[] = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(/\s+/).filter((v) => v !== '')
      : [value];
  const acr = items.map((v) => (typeof v === 'number' && Number.isInteger(v) ? String(v) : v));
  if (acr.length === 0 || !acr.every((v): v is string => typeof v === 'string' && ACR_VALUE.test(v))) {
    throw new InvalidAt(
      'acr',
      `must be a list of acr values (printable ASCII without spaces, " or \\), e.g. [urn:example:mfa] (got ${show(value)})`,
    );
  }
  if (acr.length > MAX_ACR_VALUES || acr.join(' ').length > MAX_ACR_LENGTH) {
    throw new InvalidAt('acr', `must hold at most ${MAX_ACR_VALUES} values and ${MAX_ACR_LENGTH} characters`);
  }
  return acr;
}

function parseMaxAge(value: unknown): number {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new InvalidAt('maxAge', `must be a duration such as 90, 90s, 15m, 12h or 7d (got ${show(value)})`);
  }
  try {
    return parseDurationMs(value, { min: 1, max: MAX_MAX_AGE_MS, maxText: '366d' });
  } catch (err) {
    if (err instanceof Invalid) throw new InvalidAt('maxAge', err.message);
    throw err;
  }
}
