import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreKeys } from '../../src/session/store/keys.js';
import type { SessionRecord } from '../../src/session/records/record.js';
import { SessionRecords } from '../../src/session/records/session-records.js';
import { openStoredSession } from '../../src/session/records/sealed-record.js';
import { Vault } from '../../src/session/vault.js';
import { KV_STORES, legacyStoredSession, sampleRecord, type KvFixture } from '../helpers/sessions.js';

const keys = new StoreKeys('bff:');
const vault = new Vault([randomBytes(32)]);
const newSid = () => randomBytes(24).toString('base64url');

describe.each(['redis', 'memory'] as const)('SessionRecords (%s)', (name) => {
  let store: KvFixture;
  /** The clock of `records`; the store's TTLs run on real time. */
  let clock: number;
  let records: SessionRecords;
  /** Another gateway instance on the same store. */
  let other: SessionRecords;
  beforeAll(async () => {
    store = await KV_STORES[name]();
    records = new SessionRecords(store.kv, vault, keys, { now: () => clock });
    other = new SessionRecords(store.kv, vault, keys);
  });
  afterAll(async () => {
    await store?.stop();
  });

  async function signedIn(record: SessionRecord = sampleRecord(Date.now())) {
    clock = Date.now();
    const sid = newSid();
    await records.write(sid, record);
    return { sid, record };
  }

  it('reads what it wrote, under a key that holds only a hash of the id', async () => {
    const { sid, record } = await signedIn();
    const loaded = (await records.read(sid))!;
    expect(loaded.record).toEqual(record);
    expect(loaded.sid).toBe(sid);
    expect(keys.session(sid)).not.toContain(sid);
    expect(loaded.raw).toEqual(await store.kv.getBytes(keys.session(sid)));
    expect(await records.read(newSid())).toBeNull();
  });

  it('decodes an unchanged session once: later reads return the same object', async () => {
    const { sid } = await signedIn();
    const first = await records.read(sid);
    expect(await records.read(sid)).toBe(first);
    expect(await records.read(sid)).toBe(first);
  });

  it('a session changed by another instance is read anew, never served from the cache', async () => {
    const { sid } = await signedIn();
    const cached = (await records.read(sid))!;
    const changed = { ...cached.record, tokens: { ...cached.record.tokens, accessToken: 'rotated' } };
    expect(await other.replace((await other.read(sid))!, changed)).not.toBeNull();
    const read = (await records.read(sid))!;
    expect(read.record.tokens.accessToken).toBe('rotated');
    expect(read.raw).not.toEqual(cached.raw);
  });

  it('a session deleted elsewhere (logout on another instance, TTL) is gone', async () => {
    const { sid } = await signedIn();
    expect(await records.read(sid)).not.toBeNull();
    await other.delete(sid);
    expect(await records.read(sid)).toBeNull();
    // The same when the store drops the key itself (its TTL):
    const second = await signedIn();
    expect(await records.read(second.sid)).not.toBeNull();
    await store.kv.del(keys.session(second.sid));
    expect(await records.read(second.sid)).toBeNull();
  });

  it('liveness is checked on every read: a cached session past its end is not served', async () => {
    const { sid, record } = await signedIn();
    expect(await records.read(sid)).not.toBeNull();
    clock = record.idleExpiresAt; // the stored bytes are unchanged (the store runs on real time)
    expect(await records.read(sid)).toBeNull();
    clock = record.idleExpiresAt - 1;
    expect(await records.read(sid)).not.toBeNull();
    clock = Date.now();
  });

  it("a value this id cannot open is refused, even if it is another cached session's", async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const aliceLoaded = (await records.read(alice.sid))!;
    expect(await records.read(bob.sid)).not.toBeNull();
    await store.kv.set(keys.session(bob.sid), aliceLoaded.raw, 60_000);
    expect(await records.read(bob.sid)).toBeNull();
    expect(await records.read(alice.sid)).toBe(aliceLoaded);
  });

  it('replace is compare-and-set on the exact bytes read', async () => {
    const { sid } = await signedIn();
    const loaded = (await records.read(sid))!;
    const slid = { ...loaded.record, idleExpiresAt: loaded.record.idleExpiresAt + 60_000 };
    const written = (await records.replace(loaded, slid))!;
    expect(written.record).toEqual(slid);
    expect(await records.replace(loaded, { ...slid, sub: 'stale' })).toBeNull();
    expect((await records.read(sid))!.record).toEqual(slid);
    await records.delete(sid);
    expect(await records.replace(written, slid)).toBeNull();
    expect(await store.kv.getBytes(keys.session(sid))).toBeNull();
  });

  it('decoded sessions are frozen: a request cannot change what the next one reads', async () => {
    const { sid } = await signedIn();
    const loaded = (await records.read(sid))!;
    expect(() => Object.assign(loaded.record.tokens, { accessToken: 'x' })).toThrow(TypeError);
    expect(() => Object.assign(loaded.record.claims, { admin: true })).toThrow(TypeError);
    expect(() => Object.assign(loaded, { sid: 'x' })).toThrow(TypeError);
  });

  it('holds at most `cacheEntries` sessions', async () => {
    const small = new SessionRecords(store.kv, vault, keys, { cacheEntries: 2 });
    const sessions = [await signedIn(), await signedIn(), await signedIn()];
    const first = await small.read(sessions[0]!.sid);
    expect(await small.read(sessions[0]!.sid)).toBe(first);
    await small.read(sessions[1]!.sid);
    await small.read(sessions[2]!.sid);
    const again = await small.read(sessions[0]!.sid);
    expect(again).not.toBe(first); // evicted, decoded anew
    expect(again).toEqual(first);
  });

  it('rolling upgrade: reads a session stored by an earlier version, and writes it back in the new format', async () => {
    clock = Date.now();
    const sid = newSid();
    const record = sampleRecord(clock);
    await store.kv.set(keys.session(sid), legacyStoredSession(vault, sid, record), 60_000);
    const loaded = (await records.read(sid))!;
    expect(loaded.record).toEqual(record);
    expect(loaded.raw[0]).toBe(0x7b); // '{'

    const slid = { ...record, idleExpiresAt: record.idleExpiresAt + 1_000 };
    expect(await records.replace(loaded, slid)).not.toBeNull();
    const stored = (await store.kv.getBytes(keys.session(sid)))!;
    expect(stored[0]).toBe(0x02);
    expect(openStoredSession(vault, sid, stored)).toEqual(slid);
    expect((await records.read(sid))!.record).toEqual(slid);
  });

  it('a write past the session end stores nothing', async () => {
    clock = Date.now();
    const sid = newSid();
    await records.write(sid, sampleRecord(clock, { idleExpiresAt: clock }));
    expect(await store.kv.getBytes(keys.session(sid))).toBeNull();
  });
});
