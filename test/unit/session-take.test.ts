/**
 * SessionRecords.take (logout): one atomic read-and-delete, the same with Redis (GETDEL) and in memory.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreKeys } from '../../src/session/store/keys.js';
import { SessionRecords } from '../../src/session/records/session-records.js';
import { Vault } from '../../src/session/vault.js';
import { KV_STORES, sampleRecord, type KvFixture } from '../helpers/sessions.js';

const keys = new StoreKeys('bff:');
const vault = new Vault([randomBytes(32)]);
const newSid = () => randomBytes(24).toString('base64url');

describe.each(['redis', 'memory'] as const)('SessionRecords.take (%s)', (name) => {
  let store: KvFixture;
  let records: SessionRecords;
  /** Another gateway instance on the same store (a refresh there rotates the record). */
  let other: SessionRecords;
  beforeAll(async () => {
    store = await KV_STORES[name]();
    records = new SessionRecords(store.kv, vault, keys);
    other = new SessionRecords(store.kv, vault, keys);
  });
  afterAll(async () => {
    await store?.stop();
  });

  it('returns the record stored at that instant and deletes it', async () => {
    const sid = newSid();
    const record = sampleRecord(Date.now());
    await records.write(sid, record);
    await records.read(sid); // cached here, then rotated by the other instance
    const loaded = (await other.read(sid))!;
    const rotated = { ...record, tokens: { ...record.tokens, refreshToken: 'rotated-rt' } };
    expect(await other.replace(loaded, rotated)).not.toBeNull();

    expect(await records.take(sid)).toEqual(rotated);
    expect(await store.kv.exists(keys.session(sid))).toBe(false);
    expect(await records.read(sid)).toBeNull();
    // A rotation landing after the take is refused: the key is gone.
    expect(await other.replace(loaded, rotated)).toBeNull();
  });

  it('gives the record to exactly one of two concurrent takes', async () => {
    const sid = newSid();
    await records.write(sid, sampleRecord(Date.now()));
    const results = await Promise.all([records.take(sid), other.take(sid)]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });

  it('returns null for an unknown id, and for an id that does not open the record', async () => {
    expect(await records.take(newSid())).toBeNull();
    const sid = newSid();
    await records.write(sid, sampleRecord(Date.now()));
    const foreign = new SessionRecords(store.kv, new Vault([randomBytes(32)]), keys);
    expect(await foreign.take(sid)).toBeNull();
  });
});
