import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BoundedCache } from '../records/bounded-cache.js';
import { readCookie } from './cookie-rules.js';

/** How many verified cookie values one process remembers, per set of secrets. */
export const VERIFIED_COOKIE_ENTRIES = 10_000;

/**
 * Cookie values whose signature was verified, by the secrets that verified them. Only an exact, already
 * verified value is found here: any other value, a tampered copy of a cached one included, is verified
 * in full. Keyed by the secrets array itself, so each gateway (and each test) has its own.
 */
const verified = new WeakMap<readonly string[], BoundedCache<string, string>>();

/**
 * Reads the session id from express-session's signed cookie (`s:<id>.<HMAC-SHA256 base64>`, URL-encoded)
 * without express-session, for the /api hot path. Any of the secrets may have signed it (rotation).
 * The HMAC runs once per cookie value and process (see `verified`); a session's end is decided by the
 * store, never by this cache.
 */
export function readSessionId(
  req: IncomingMessage,
  cookieName: string,
  secrets: readonly string[],
): string | undefined {
  const raw = readCookie(req, cookieName);
  if (raw === undefined) return undefined;
  let cache = verified.get(secrets);
  const known = cache?.get(raw);
  if (known !== undefined) return known;
  const id = verifySignedId(raw, secrets);
  if (id !== undefined) {
    if (!cache) verified.set(secrets, (cache = new BoundedCache(VERIFIED_COOKIE_ENTRIES)));
    cache.set(raw, id);
  }
  return id;
}

function verifySignedId(raw: string, secrets: readonly string[]): string | undefined {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (!value.startsWith('s:')) return undefined;
  const signed = value.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = signed.slice(0, dot);
  const signature = Buffer.from(signed.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, ''));
    if (expected.length === signature.length && timingSafeEqual(expected, signature)) return id;
  }
  return undefined;
}
