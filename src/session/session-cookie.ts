import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readCookie } from './cookies.js';

/**
 * Reads the session id from express-session's signed cookie (`s:<id>.<HMAC-SHA256 base64>`, URL-encoded)
 * without express-session, for the /api hot path. Any of the secrets may have signed it (rotation).
 */
export function readSessionId(
  req: IncomingMessage,
  cookieName: string,
  secrets: string[],
): string | undefined {
  const raw = readCookie(req, cookieName);
  if (raw === undefined) return undefined;
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
