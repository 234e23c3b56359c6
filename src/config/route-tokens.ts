/**
 * A route's own token (contract "Tokens per API"): `audience` (RFC 8707: the user's token for this
 * resource only, obtained with the session's refresh token) or `exchange` (RFC 8693: the user's access
 * token exchanged for one for this API). Problems below `exchange` name their own key.
 */
import { Invalid } from './invalid.js';
import { parseScopes, show } from './parsers.js';
import { InvalidAt } from './route-require.js';
import type { RouteExchange } from './types.js';

export const AUDIENCE_EXPECT = 'an absolute URI such as https://orders.example.com';
export const EXCHANGE_EXPECT = 'a mapping with audience and optionally scope';
const EXCHANGE_KEYS = ['audience', 'scope'];

/** RFC 8707 §2: an absolute URI without a fragment (the IdP compares it as a string). */
export function parseAudience(value: unknown): string {
  if (typeof value !== 'string') throw new Invalid(`must be ${AUDIENCE_EXPECT} (got ${show(value)})`);
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Invalid(`must be ${AUDIENCE_EXPECT} (got ${show(value)})`);
  }
  if (/\s/.test(text) || text.includes('#') || url.protocol === ':') {
    throw new Invalid(`must be an absolute URI without spaces or a #fragment (got ${show(value)})`);
  }
  return text;
}

export function parseExchange(value: unknown): RouteExchange {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Invalid(`must be ${EXCHANGE_EXPECT} (got ${show(value)})`);
  }
  const entry = value as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (!EXCHANGE_KEYS.includes(key)) {
      throw new InvalidAt(key, `is not an exchange key: use ${EXCHANGE_KEYS.join(', ')}`);
    }
  }
  // RFC 8693 §2.1: `audience` is any logical name the IdP knows (a URI or not); no spaces.
  const audience = typeof entry.audience === 'string' ? entry.audience.trim() : undefined;
  if (audience === undefined || audience === '' || /\s/.test(audience)) {
    throw new InvalidAt(
      'audience',
      `is required: the API the exchanged token is for, without spaces (got ${show(entry.audience)})`,
    );
  }
  let scope: string | undefined;
  if (entry.scope !== undefined && entry.scope !== null) {
    if (typeof entry.scope !== 'string' && !isStringList(entry.scope)) {
      throw new InvalidAt(
        'scope',
        `must be a list of scopes or a space-separated string (got ${show(entry.scope)})`,
      );
    }
    let scopes: string[];
    try {
      scopes = parseScopes(entry.scope, false);
    } catch (err) {
      if (err instanceof Invalid) throw new InvalidAt('scope', err.message);
      throw err;
    }
    scope = scopes.length === 0 ? undefined : scopes.join(' ');
  }
  return { audience, scope };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
