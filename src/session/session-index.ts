import type { KvStore } from './kv-store.js';
import type { StoreKeys } from './keys.js';
import type { SessionRecord } from './record.js';

/**
 * Which sessions belong to an IdP session (`sid`) or a user (`sub`), for back-channel logout. The
 * indexes hold only hashes of session ids, expire with the longest possible session, and lose their
 * entries when sessions end.
 */
export class SessionIndex {
  constructor(
    private readonly kv: KvStore,
    private readonly keys: StoreKeys,
    private readonly issuer: string,
    private readonly maxAgeMs: number,
  ) {}

  async add(sid: string, record: SessionRecord): Promise<void> {
    const member = this.keys.sessionHash(sid);
    const writes = [
      this.kv.addToSet(this.keys.sessionsBySub(this.issuer, record.sub), member, this.maxAgeMs),
    ];
    if (record.idpSid)
      writes.push(
        this.kv.addToSet(this.keys.sessionsByIdpSid(this.issuer, record.idpSid), member, this.maxAgeMs),
      );
    await Promise.all(writes);
  }

  async remove(sid: string, record: SessionRecord): Promise<void> {
    const member = this.keys.sessionHash(sid);
    const removals = [this.kv.removeFromSet(this.keys.sessionsBySub(this.issuer, record.sub), member)];
    if (record.idpSid)
      removals.push(this.kv.removeFromSet(this.keys.sessionsByIdpSid(this.issuer, record.idpSid), member));
    await Promise.all(removals);
  }

  /**
   * Ends every session of the IdP session `idpSid` (when given), else every session of `sub`, deleting
   * them from the store. Returns the hashes of the sessions ended.
   */
  async endSessions(match: { idpSid: string | undefined; sub: string | undefined }): Promise<string[]> {
    const indexKey =
      match.idpSid !== undefined
        ? this.keys.sessionsByIdpSid(this.issuer, match.idpSid)
        : this.keys.sessionsBySub(this.issuer, match.sub!);
    const hashes = await this.kv.members(indexKey);
    if (hashes.length > 0) await this.kv.del(...hashes.map((h) => this.keys.sessionByHash(h)));
    await this.kv.del(indexKey);
    return hashes;
  }
}
