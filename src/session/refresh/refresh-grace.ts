import type { StoreKeys } from '../store/keys.js';
import type { KvStore } from '../store/kv-store.js';
import type { Vault } from '../vault.js';
import type { RefreshedTokens } from './grant.js';

/** How long the result of a refresh stays available to a request that still holds the spent token. */
export const GRACE_MS = 30_000;
const GRACE_PURPOSE = 'refresh-grace';

/**
 * The result of a refresh, kept briefly under the hash of the refresh token it spent (sealed, bound to
 * the session id), so that a straggler that still holds the spent token gets the new tokens instead of
 * spending it again.
 */
export class RefreshGrace {
  constructor(
    private readonly kv: KvStore,
    private readonly keys: StoreKeys,
    private readonly vault: Vault,
  ) {}

  /** The result of the refresh that spent `spent`, if it is still kept (and opens for this session). */
  async read(sid: string, spent: string): Promise<RefreshedTokens | undefined> {
    const sealed = await this.kv.get(this.keys.refreshGrace(sid, spent));
    const opened = sealed === null ? undefined : this.vault.open(sealed, sid, GRACE_PURPOSE);
    return opened === undefined ? undefined : (JSON.parse(opened) as RefreshedTokens);
  }

  async write(sid: string, spent: string, refreshed: RefreshedTokens): Promise<void> {
    const sealed = this.vault.seal(JSON.stringify(refreshed), sid, GRACE_PURPOSE);
    await this.kv.set(this.keys.refreshGrace(sid, spent), sealed, GRACE_MS);
  }
}
