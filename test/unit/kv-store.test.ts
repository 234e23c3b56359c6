import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KV_STORES, type KvFixture } from '../helpers/sessions.js';

/** Everything the session storage relies on, asserted for Redis and for the in-memory store alike. */
describe.each(['redis', 'memory'] as const)('KvStore (%s)', (name) => {
  let store: KvFixture;
  beforeAll(async () => {
    store = await KV_STORES[name]();
  });
  afterAll(async () => {
    await store?.stop();
  });
  let n = 0;
  const key = () => `bff:test:${name}:${++n}`;

  it('keeps bytes exactly: getBytes returns them, get reads them as UTF-8', async () => {
    const k = key();
    const bytes = Buffer.from([0x02, 0x00, 0xff, 0xc3, 0x28, 0x7b, 0x0a]);
    await store.kv.set(k, bytes, 60_000);
    expect(await store.kv.getBytes(k)).toEqual(bytes);
    expect(await store.kv.get(k)).toBe(bytes.toString('utf8'));
    await store.kv.set(k, 'text é', 60_000);
    expect(await store.kv.getBytes(k)).toEqual(Buffer.from('text é'));
    expect(await store.kv.getBytes(key())).toBeNull();
  });

  it('a stored value is not changed by the caller reusing its buffer', async () => {
    const k = key();
    const bytes = Buffer.from('abc');
    await store.kv.set(k, bytes, 60_000);
    bytes[0] = 0x7a;
    (await store.kv.getBytes(k))![1] = 0x7a;
    expect(await store.kv.get(k)).toBe('abc');
  });

  it('compare-and-set writes only over exactly the expected bytes', async () => {
    const k = key();
    const v1 = Buffer.from([0x02, 0xff, 0x00, 1]);
    const v2 = Buffer.from([0x02, 0xff, 0x00, 2]);
    expect(await store.kv.compareAndSet(k, v1, v2, 60_000)).toBe(false); // nothing there
    expect(await store.kv.getBytes(k)).toBeNull();
    await store.kv.set(k, v1, 60_000);
    expect(await store.kv.compareAndSet(k, Buffer.from([0x02, 0xff, 0x00, 9]), v2, 60_000)).toBe(false);
    expect(await store.kv.compareAndSet(k, v1.subarray(0, 3), v2, 60_000)).toBe(false);
    // Bytes that read as the same UTF-8 text (both invalid) are still different bytes.
    expect(await store.kv.compareAndSet(k, Buffer.from([0x02, 0xfe, 0x00, 1]), v2, 60_000)).toBe(false);
    expect(await store.kv.getBytes(k)).toEqual(v1);
    expect(await store.kv.compareAndSet(k, v1, v2, 60_000)).toBe(true);
    expect(await store.kv.getBytes(k)).toEqual(v2);
    // Text written earlier (a session of an older version) compares by its bytes too.
    await store.kv.set(k, '{"sealed":"é"}', 60_000);
    expect(await store.kv.compareAndSet(k, Buffer.from('{"sealed":"é"}'), v1, 60_000)).toBe(true);
    expect(await store.kv.getBytes(k)).toEqual(v1);
  });

  it('a lock is renewed only by its owner, and not once it has expired', async () => {
    const k = key();
    expect(await store.kv.setIfAbsent(k, 'owner-a', 200)).toBe(true);
    expect(await store.kv.extendIfEquals(k, 'owner-b', 60_000)).toBe(false);
    expect(await store.kv.extendIfEquals(k, 'owner-a', 60_000)).toBe(true);
    // Past the original 200 ms, the renewed lock is still there and still refuses others.
    await expect.poll(() => store.kv.setIfAbsent(`${k}:probe`, '1', 250), { interval: 50 }).toBe(true);
    await expect.poll(() => store.kv.exists(`${k}:probe`), { interval: 50, timeout: 2000 }).toBe(false);
    expect(await store.kv.setIfAbsent(k, 'owner-b', 60_000)).toBe(false);
    expect(await store.kv.get(k)).toBe('owner-a');
    await store.kv.deleteIfEquals(k, 'owner-a');
    expect(await store.kv.extendIfEquals(k, 'owner-a', 60_000)).toBe(false);
    expect(await store.kv.exists(k)).toBe(false);
  });

  it('index: members come and go; the last one out removes the key', async () => {
    const k = key();
    const later = Date.now() + 3600_000;
    await store.kv.addToIndex(k, 'a', later, 3600_000);
    await store.kv.addToIndex(k, 'b', later, 3600_000);
    await store.kv.addToIndex(k, 'a', later, 3600_000);
    expect((await store.kv.indexMembers(k)).sort()).toEqual(['a', 'b']);
    await store.kv.removeFromIndex(k, 'a');
    expect(await store.kv.indexMembers(k)).toEqual(['b']);
    await store.kv.removeFromIndex(k, 'b');
    expect(await store.kv.indexMembers(k)).toEqual([]);
    expect(await store.kv.exists(k)).toBe(false);
    await store.kv.removeFromIndex(k, 'b'); // on a missing index: nothing happens
    expect(await store.kv.indexMembers(key())).toEqual([]);
  });

  it('index: adding drops the members whose session has ended', async () => {
    const k = key();
    const now = Date.now();
    await store.kv.addToIndex(k, 'ended', now - 2_000, 3600_000);
    expect(await store.kv.indexMembers(k)).toEqual([]);
    await store.kv.addToIndex(k, 'live', now + 3600_000, 3600_000);
    expect(await store.kv.indexMembers(k)).toEqual(['live']);
  });

  it('legacy sets read as their members; none is empty', async () => {
    const k = key();
    if (store.redis) await store.redis.client.sadd(k, 'h1', 'h2');
    expect((await store.kv.setMembers(k)).sort()).toEqual(store.redis ? ['h1', 'h2'] : []);
    expect(await store.kv.setMembers(key())).toEqual([]);
  });

  it('a completed pending login leaves no key behind', async () => {
    const [index, login] = [key(), key()];
    await store.kv.putPendingLogin(index, login, 'sealed', 60_000, 5);
    expect(await store.kv.takePendingLogin(index, login)).toBe('sealed');
    expect(await store.kv.takePendingLogin(index, login)).toBeNull();
    expect(await store.kv.exists(login)).toBe(false);
    expect(await store.kv.exists(index)).toBe(false);
  });
});

describe('KvStore (redis): TTLs', () => {
  let store: KvFixture;
  beforeAll(async () => {
    store = await KV_STORES.redis();
  });
  afterAll(async () => {
    await store?.stop();
  });

  it('an index gets a TTL, which a later add extends but never shortens', async () => {
    const client = store.redis!.client;
    const later = Date.now() + 3600_000;
    await store.kv.addToIndex('bff:ix', 'a', later, 60_000);
    const first = await client.pttl('bff:ix');
    expect(first).toBeGreaterThan(50_000);
    expect(first).toBeLessThanOrEqual(60_000);
    await store.kv.addToIndex('bff:ix', 'b', later, 1_000);
    expect(await client.pttl('bff:ix')).toBeGreaterThan(50_000);
    await store.kv.addToIndex('bff:ix', 'c', later, 120_000);
    expect(await client.pttl('bff:ix')).toBeGreaterThan(110_000);
    expect(await client.type('bff:ix')).toBe('hash');
  });

  it('binary values keep their TTL', async () => {
    await store.kv.set('bff:bin', Buffer.from([0, 1, 2]), 60_000);
    expect(await store.redis!.client.pttl('bff:bin')).toBeGreaterThan(50_000);
    await store.kv.compareAndSet('bff:bin', Buffer.from([0, 1, 2]), Buffer.from([3]), 30_000);
    expect(await store.redis!.client.pttl('bff:bin')).toBeLessThanOrEqual(30_000);
  });
});
