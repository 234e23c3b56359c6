import type session from 'express-session';
import { isLive, storeExpiry } from './record.js';
import type { Vault } from './vault.js';

/**
 * The stored form of a session: `{"cookie":{"expires":…},"sealed":"v1.…"}`, the JSON that connect-redis
 * writes. `cookie.expires` is there only for the inner store's TTL; everything else is sealed with a key
 * bound to the session id.
 */
export interface StoredEnvelope {
  cookie: { expires: string | Date };
  sealed: string;
}

const PURPOSE = 'session';

export function sealSession(vault: Vault, sid: string, data: session.SessionData): StoredEnvelope {
  if (!data.bff) throw new Error('refusing to store a session without a record');
  return {
    cookie: { expires: new Date(storeExpiry(data.bff)) },
    sealed: vault.seal(JSON.stringify(data), sid, PURPOSE),
  };
}

/** Null for anything that is not a live session this browser's id opens. */
export function unsealSession(
  vault: Vault,
  sid: string,
  stored: unknown,
  now: number,
): session.SessionData | null {
  const sealed = (stored as Partial<StoredEnvelope> | null | undefined)?.sealed;
  if (typeof sealed !== 'string') return null;
  const plain = vault.open(sealed, sid, PURPOSE);
  if (plain === undefined) return null;
  const data = JSON.parse(plain) as session.SessionData;
  return data.bff && isLive(data.bff, now) ? data : null;
}
