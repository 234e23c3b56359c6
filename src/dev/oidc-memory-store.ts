/**
 * In-memory storage for oidc-provider (its own development adapter prints a warning), shared by the
 * demo IdP and the tests' IdP. Development and tests only: everything is lost with the process.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

export interface StoredEntry {
  payload: AdapterPayload;
  /** Epoch ms; undefined never expires. */
  expiresAt: number | undefined;
}

/** Models whose entries belong to a grant (revoked together). */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

export class OidcMemoryStore {
  /** Keyed `<Model>:<id>`; tests may put entries in directly (e.g. `Client:<client_id>`). */
  readonly entries = new Map<string, StoredEntry>();
  private readonly grants = new Map<string, Set<string>>();
  private readonly sessionUids = new Map<string, string>();
  private readonly userCodes = new Map<string, string>();
  private lastSweep = Date.now();

  adapter(model: string): Adapter {
    const key = (id: string) => `${model}:${id}`;
    return {
      upsert: async (id, payload, expiresIn) => {
        this.sweep();
        this.entries.set(key(id), {
          payload,
          expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined,
        });
        if (model === 'Session' && typeof payload.uid === 'string') this.sessionUids.set(payload.uid, id);
        if (typeof payload.userCode === 'string') this.userCodes.set(payload.userCode, id);
        if (GRANTABLE.has(model) && typeof payload.grantId === 'string') {
          const members = this.grants.get(payload.grantId) ?? new Set<string>();
          members.add(key(id));
          this.grants.set(payload.grantId, members);
        }
      },
      find: async (id) => this.get(key(id)),
      findByUid: async (uid) => {
        const id = this.sessionUids.get(uid);
        return id === undefined ? undefined : this.get(`Session:${id}`);
      },
      findByUserCode: async (userCode) => {
        const id = this.userCodes.get(userCode);
        return id === undefined ? undefined : this.get(key(id));
      },
      consume: async (id) => {
        const payload = this.get(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        this.entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const k of this.grants.get(grantId) ?? []) this.entries.delete(k);
        this.grants.delete(grantId);
      },
    };
  }

  private get(k: string): AdapterPayload | undefined {
    const entry = this.entries.get(k);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(k);
      return undefined;
    }
    return entry.payload;
  }

  /** Drops expired entries now and then, so a long-running demo does not grow without bound. */
  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [k, entry] of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.entries.delete(k);
    }
  }
}
