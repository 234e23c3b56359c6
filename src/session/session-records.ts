import type session from 'express-session';
import { sealSession, unsealSession } from './envelope.js';
import type { StoreKeys } from './keys.js';
import type { KvStore } from './kv-store.js';
import { storeExpiry, type SessionRecord } from './record.js';
import type { Vault } from './vault.js';

/** A session as read on the /api hot path: the record plus the exact stored value, for compare-and-set. */
export interface LoadedSession {
  sid: string;
  record: SessionRecord;
  data: session.SessionData;
  raw: string;
}

/**
 * Direct access to stored sessions for the /api hot path and the refresh: one GET to read, and writes
 * that cannot be lost to a concurrent save (compare-and-set on the exact value read). Same keys and
 * format as the express-session store.
 */
export class SessionRecords {
  constructor(
    private readonly kv: KvStore,
    private readonly vault: Vault,
    private readonly keys: StoreKeys,
  ) {}

  async read(sid: string): Promise<LoadedSession | null> {
    const raw = await this.kv.get(this.keys.session(sid));
    if (raw === null) return null;
    const data = unsealSession(this.vault, sid, JSON.parse(raw), Date.now());
    return data ? { sid, record: data.bff, data, raw } : null;
  }

  /** Replaces the record if the stored value is still `loaded.raw`; null when it changed or vanished. */
  async replace(loaded: LoadedSession, record: SessionRecord): Promise<LoadedSession | null> {
    const data: session.SessionData = { ...loaded.data, bff: record };
    const raw = JSON.stringify(sealSession(this.vault, loaded.sid, data));
    const ttlMs = storeExpiry(record) - Date.now();
    if (ttlMs <= 0) return null;
    const written = await this.kv.compareAndSet(this.keys.session(loaded.sid), loaded.raw, raw, ttlMs);
    return written ? { sid: loaded.sid, record, data, raw } : null;
  }

  async delete(sid: string): Promise<void> {
    await this.kv.del(this.keys.session(sid));
  }
}
