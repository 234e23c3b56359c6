import type { StoreKeys } from './keys.js';
import type { Stores } from './kv-store.js';
import type { SessionRecord } from './record.js';

/**
 * Which sessions belong to an IdP session (`sid`) or a user (`sub`), for back-channel logout. The
 * indexes are small Redis hashes (session hash -> the session's absolute end): they hold only hashes of
 * session ids, shed the members whose session has certainly ended whenever one is added, lose a
 * member when its session ends here, and expire with the longest possible session.
 */
export class SessionIndex {
  constructor(
    /** The index operations, and the generic store to delete the sessions and indexes it finds. */
    private readonly stores: Pick<Stores, 'kv' | 'sessionIndex'>,
    private readonly keys: StoreKeys,
    private readonly issuer: string,
    private readonly maxAgeMs: number,
  ) {}

  async add(sid: string, record: SessionRecord): Promise<void> {
    const member = this.keys.sessionHash(sid);
    await Promise.all(
      this.indexKeys(record).map((key) =>
        this.stores.sessionIndex.addToIndex(key, member, record.absoluteExpiresAt, this.maxAgeMs),
      ),
    );
  }

  async remove(sid: string, record: SessionRecord): Promise<void> {
    const member = this.keys.sessionHash(sid);
    await Promise.all(
      this.indexKeys(record).map((key) => this.stores.sessionIndex.removeFromIndex(key, member)),
    );
  }

  /**
   * Ends every session of the IdP session `idpSid` (when given), else every session of `sub`, deleting
   * them from the store. Returns the hashes of the sessions ended.
   */
  async endSessions(match: { idpSid: string | undefined; sub: string | undefined }): Promise<string[]> {
    const [indexKey, legacyKey] =
      match.idpSid !== undefined
        ? [
            this.keys.sessionsByIdpSid(this.issuer, match.idpSid),
            this.keys.legacySessionsByIdpSid(this.issuer, match.idpSid),
          ]
        : [
            this.keys.sessionsBySub(this.issuer, match.sub!),
            this.keys.legacySessionsBySub(this.issuer, match.sub!),
          ];
    const [current, legacy] = await Promise.all([
      this.stores.sessionIndex.indexMembers(indexKey),
      this.stores.sessionIndex.setMembers(legacyKey),
    ]);
    const hashes = [...new Set([...current, ...legacy])];
    if (hashes.length > 0) await this.stores.kv.del(...hashes.map((h) => this.keys.sessionByHash(h)));
    await this.stores.kv.del(indexKey, legacyKey);
    return hashes;
  }

  private indexKeys(record: SessionRecord): string[] {
    const keys = [this.keys.sessionsBySub(this.issuer, record.sub)];
    if (record.idpSid) keys.push(this.keys.sessionsByIdpSid(this.issuer, record.idpSid));
    return keys;
  }
}
