import type { StoreKeys } from './store/keys.js';
import type { Stores } from './store/stores.js';
import type { SessionRecord } from './records/record.js';

/** The sessions of one IdP session, or of one user (a logout token carries `sid`, else `sub`). */
export type SessionMatch = { idpSid: string } | { sub: string };

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
   * Deletes every session of the match from the store, then the match's index (in that order, so a
   * failure midway leaves the index to retry with). Returns the hashes of the sessions ended. Only
   * session/session-terminator.ts calls this: it also tells the sessions' listeners and counts them.
   */
  async endSessions(match: SessionMatch): Promise<string[]> {
    const [indexKey, legacyKey] =
      'idpSid' in match
        ? [
            this.keys.sessionsByIdpSid(this.issuer, match.idpSid),
            this.keys.legacySessionsByIdpSid(this.issuer, match.idpSid),
          ]
        : [
            this.keys.sessionsBySub(this.issuer, match.sub),
            this.keys.legacySessionsBySub(this.issuer, match.sub),
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
