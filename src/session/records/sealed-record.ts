import { decodeRecord, encodeRecord } from './record-codec.js';
import type { SessionRecord } from './record.js';
import type { Vault } from '../vault.js';

/**
 * The value a session key holds: the vault's bytes envelope (vault.ts) around the encoded record
 * (record-codec.ts), sealed with a key bound to the session id. Nothing else: the key's TTL is the
 * session's end.
 *
 * Sessions written before this format (connect-redis JSON, `{"cookie":{"expires":…},"sealed":"v1.…"}`
 * around the text envelope of express-session's JSON) are still read, so upgrading the gateway signs
 * nobody out; the next write of such a session (a slide, a refresh) stores it in the current format.
 */
const PURPOSE = 'session';
/** The first byte of a legacy value, `{`; a bytes envelope starts with 0x02. */
const LEGACY_JSON = 0x7b;

export function sealStoredSession(vault: Vault, sid: string, record: SessionRecord): Buffer {
  return vault.sealBytes(encodeRecord(record), sid, PURPOSE);
}

/** The record in `stored` if this browser's id opens it; undefined for anything else. */
export function openStoredSession(vault: Vault, sid: string, stored: Buffer): SessionRecord | undefined {
  if (stored[0] === LEGACY_JSON) return openLegacy(vault, sid, stored);
  const plain = vault.openBytes(stored, sid, PURPOSE);
  return plain === undefined ? undefined : decodeRecord(plain);
}

function openLegacy(vault: Vault, sid: string, stored: Buffer): SessionRecord | undefined {
  try {
    const sealed = (JSON.parse(stored.toString('utf8')) as { sealed?: unknown }).sealed;
    if (typeof sealed !== 'string') return undefined;
    const plain = vault.open(sealed, sid, PURPOSE);
    if (plain === undefined) return undefined;
    const record = (JSON.parse(plain) as { bff?: SessionRecord }).bff;
    return typeof record === 'object' && record !== null ? record : undefined;
  } catch {
    return undefined;
  }
}
