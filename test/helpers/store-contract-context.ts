/** The fixture and context the parts of the store contract (store-contract*.ts) share. */
import { expect } from 'vitest';
import type { StoreKeys } from '../../src/session/store/keys.js';
import type { KvStore } from '../../src/session/store/kv-store.js';
import type { Stores } from '../../src/session/store/stores.js';

export interface StoreFixture {
  stores: Stores;
  /** PTTL as the backend itself reports it: ms left, -1 without TTL, -2 for a missing key. */
  pttl(key: string): Promise<number>;
  /** Writes a Redis set (the index format of older versions); undefined where none can exist (memory). */
  seedLegacySet: ((key: string, members: string[]) => Promise<void>) | undefined;
  stop(): Promise<void>;
}

/** What each part of the contract gets: the running fixture and fresh names. */
export interface ContractContext {
  readonly fixture: StoreFixture;
  readonly kv: KvStore;
  /** The gateway's key layout (hash tags!), under a prefix of this backend's own. */
  readonly keys: StoreKeys;
  /** A key never used before in this run. */
  key(label?: string): string;
  /** An id never used before in this run (a login id, a client address, a subject). */
  id(label?: string): string;
}

/** Expiry is awaited, not slept for: polls until the key is gone. */
export async function untilGone(kv: KvStore, key: string): Promise<void> {
  await expect.poll(() => kv.exists(key), { interval: 20, timeout: 5_000 }).toBe(false);
}
