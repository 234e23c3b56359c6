/**
 * The store contract: what the gateway relies on from the generic store (KvStore) and the domain stores
 * (pending logins, rate limits, the back-channel session index), asserted the same way on every backend.
 *
 *   describeStoreContract('memory', async () => {
 *     const keyspace = new MemoryKeyspace();
 *     return { stores: createMemoryStores(keyspace), pttl: async (k) => keyspace.pttl(k), ... };
 *   });
 *
 * The generic part is here; the domain parts are in store-contract-domain.ts and
 * store-contract-rate-limit.ts. TTLs are observed through the backend's own PTTL, and expiry is awaited
 * by polling (short TTLs, never a fixed sleep).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStoreUnavailableError } from '../../src/errors.js';
import { StoreKeys } from '../../src/session/store/keys.js';
import type { ContractContext, StoreFixture } from './store-contract-context.js';
import { untilGone } from './store-contract-context.js';
import { describeIndexContract, describePendingLoginContract } from './store-contract-domain.js';
import { describeRateLimitContract } from './store-contract-rate-limit.js';

export type { StoreFixture };

export function describeStoreContract(name: string, makeStores: () => Promise<StoreFixture>): void {
  describe(`store contract (${name})`, () => {
    let fixture: StoreFixture | undefined;
    let n = 0;
    const keys = new StoreKeys(`bff:contract:`);
    const ctx: ContractContext = {
      get fixture() {
        if (!fixture) throw new Error('the store fixture did not start');
        return fixture;
      },
      get kv() {
        return ctx.fixture.stores.kv;
      },
      keys,
      key: (label = 'k') => `bff:contract:${label}:${++n}`,
      id: (label = 'id') => `${label}-${++n}`,
    };
    beforeAll(async () => {
      fixture = await makeStores();
    });
    afterAll(async () => {
      await fixture?.stop();
    });

    describeKvContract(ctx);
    describePendingLoginContract(ctx);
    describeIndexContract(ctx);
    describeRateLimitContract(ctx);
  });
}

function describeKvContract(ctx: ContractContext): void {
  describe('generic store', () => {
    it('answers ping', async () => {
      await expect(ctx.kv.ping()).resolves.toBeUndefined();
    });

    it('keeps bytes exactly: getBytes returns them, get reads them as UTF-8', async () => {
      const k = ctx.key();
      const bytes = Buffer.from([0x02, 0x00, 0xff, 0xc3, 0x28, 0x7b, 0x0a]);
      await ctx.kv.set(k, bytes, 60_000);
      expect(await ctx.kv.getBytes(k)).toEqual(bytes);
      expect(await ctx.kv.get(k)).toBe(bytes.toString('utf8'));
      await ctx.kv.set(k, 'text é', 60_000);
      expect(await ctx.kv.getBytes(k)).toEqual(Buffer.from('text é'));
      expect(await ctx.kv.getBytes(ctx.key())).toBeNull();
      expect(await ctx.kv.get(ctx.key())).toBeNull();
    });

    it('getManyBytes reads several keys of one hash slot in order, null for a missing one', async () => {
      const tag = `{${ctx.key('slot')}}`;
      await ctx.kv.set(`${tag}:a`, Buffer.from([0x02, 0xff]), 60_000);
      await ctx.kv.set(`${tag}:c`, 'c', 60_000);
      expect(await ctx.kv.getManyBytes([`${tag}:a`, `${tag}:b`, `${tag}:c`])).toEqual([
        Buffer.from([0x02, 0xff]),
        null,
        Buffer.from('c'),
      ]);
    });

    it('a stored value is not changed by the caller reusing its buffer', async () => {
      const k = ctx.key();
      const bytes = Buffer.from('abc');
      await ctx.kv.set(k, bytes, 60_000);
      bytes[0] = 0x7a;
      (await ctx.kv.getBytes(k))![1] = 0x7a;
      expect(await ctx.kv.get(k)).toBe('abc');
    });

    it('set writes a new TTL each time, and the key is gone when it runs out', async () => {
      const k = ctx.key();
      await ctx.kv.set(k, 'v', 60_000);
      expect(await ctx.fixture.pttl(k)).toBeGreaterThan(55_000);
      await ctx.kv.set(k, 'v2', 150);
      expect(await ctx.fixture.pttl(k)).toBeLessThanOrEqual(150);
      await untilGone(ctx.kv, k);
      expect(await ctx.kv.get(k)).toBeNull();
      expect(await ctx.fixture.pttl(k)).toBe(-2);
    });

    it('compare-and-set writes only over exactly the expected bytes, with the new TTL', async () => {
      const k = ctx.key();
      const v1 = Buffer.from([0x02, 0xff, 0x00, 1]);
      const v2 = Buffer.from([0x02, 0xff, 0x00, 2]);
      await ctx.kv.set(k, v1, 60_000);
      expect(await ctx.kv.compareAndSet(k, Buffer.from([0x02, 0xff, 0x00, 9]), v2, 60_000)).toBe(false);
      expect(await ctx.kv.compareAndSet(k, v1.subarray(0, 3), v2, 60_000)).toBe(false);
      // Bytes that read as the same UTF-8 text (both invalid) are still different bytes.
      expect(await ctx.kv.compareAndSet(k, Buffer.from([0x02, 0xfe, 0x00, 1]), v2, 60_000)).toBe(false);
      expect(await ctx.kv.getBytes(k)).toEqual(v1);
      expect(await ctx.fixture.pttl(k)).toBeGreaterThan(55_000);
      expect(await ctx.kv.compareAndSet(k, v1, v2, 30_000)).toBe(true);
      expect(await ctx.kv.getBytes(k)).toEqual(v2);
      expect(await ctx.fixture.pttl(k)).toBeLessThanOrEqual(30_000);
      // Text written earlier (a session of an older version) compares by its bytes too.
      await ctx.kv.set(k, '{"sealed":"é"}', 60_000);
      expect(await ctx.kv.compareAndSet(k, Buffer.from('{"sealed":"é"}'), v1, 60_000)).toBe(true);
      expect(await ctx.kv.getBytes(k)).toEqual(v1);
    });

    it('compare-and-set on a key that changed, was deleted or expired writes nothing', async () => {
      const k = ctx.key();
      await ctx.kv.set(k, 'read', 60_000);
      await ctx.kv.set(k, 'written meanwhile', 60_000);
      expect(await ctx.kv.compareAndSet(k, 'read', 'mine', 60_000)).toBe(false);
      expect(await ctx.kv.get(k)).toBe('written meanwhile');
      await ctx.kv.del(k);
      expect(await ctx.kv.compareAndSet(k, 'written meanwhile', 'mine', 60_000)).toBe(false);
      expect(await ctx.kv.exists(k)).toBe(false); // not resurrected
      await ctx.kv.set(k, 'short', 100);
      await untilGone(ctx.kv, k);
      expect(await ctx.kv.compareAndSet(k, 'short', 'mine', 60_000)).toBe(false);
      expect(await ctx.kv.exists(k)).toBe(false);
    });

    it('del removes every key given (missing ones too); exists tells', async () => {
      const [a, b, missing] = [ctx.key(), ctx.key(), ctx.key()];
      await ctx.kv.set(a, 'a', 60_000);
      await ctx.kv.set(b, 'b', 60_000);
      expect(await ctx.kv.exists(a)).toBe(true);
      await ctx.kv.del(a, b, missing);
      expect([await ctx.kv.exists(a), await ctx.kv.exists(b), await ctx.kv.exists(missing)]).toEqual([
        false,
        false,
        false,
      ]);
    });

    it('getBytesAndDelete returns the value once and leaves no key', async () => {
      const k = ctx.key();
      await ctx.kv.set(k, Buffer.from([0, 1, 0xff]), 60_000);
      expect(await ctx.kv.getBytesAndDelete(k)).toEqual(Buffer.from([0, 1, 0xff]));
      expect(await ctx.kv.exists(k)).toBe(false);
      expect(await ctx.kv.getBytesAndDelete(k)).toBeNull();
    });

    it('setIfAbsent creates a key once, with its TTL, and again only after it expired', async () => {
      const k = ctx.key();
      expect(await ctx.kv.setIfAbsent(k, 'first', 150)).toBe(true);
      expect(await ctx.kv.setIfAbsent(k, 'second', 60_000)).toBe(false);
      expect(await ctx.kv.get(k)).toBe('first');
      expect(await ctx.fixture.pttl(k)).toBeLessThanOrEqual(150);
      await untilGone(ctx.kv, k);
      expect(await ctx.kv.setIfAbsent(k, 'third', 60_000)).toBe(true);
      expect(await ctx.kv.get(k)).toBe('third');
    });

    it('a lock is released only by its owner', async () => {
      const k = ctx.key();
      expect(await ctx.kv.setIfAbsent(k, 'owner-a', 60_000)).toBe(true);
      await ctx.kv.deleteIfEquals(k, 'owner-b');
      expect(await ctx.kv.get(k)).toBe('owner-a');
      await ctx.kv.deleteIfEquals(k, 'owner-a');
      expect(await ctx.kv.exists(k)).toBe(false);
      await ctx.kv.deleteIfEquals(k, 'owner-a'); // a missing lock: nothing happens
      expect(await ctx.kv.exists(k)).toBe(false);
    });

    it('a lock is renewed only by its owner, and not once it has expired', async () => {
      const k = ctx.key();
      expect(await ctx.kv.setIfAbsent(k, 'owner-a', 200)).toBe(true);
      expect(await ctx.kv.extendIfEquals(k, 'owner-b', 60_000)).toBe(false);
      expect(await ctx.fixture.pttl(k)).toBeLessThanOrEqual(200);
      expect(await ctx.kv.extendIfEquals(k, 'owner-a', 60_000)).toBe(true);
      expect(await ctx.fixture.pttl(k)).toBeGreaterThan(55_000);
      expect(await ctx.kv.setIfAbsent(k, 'owner-b', 60_000)).toBe(false);
      expect(await ctx.kv.get(k)).toBe('owner-a');

      const short = ctx.key();
      expect(await ctx.kv.setIfAbsent(short, 'owner-a', 100)).toBe(true);
      await untilGone(ctx.kv, short);
      expect(await ctx.kv.extendIfEquals(short, 'owner-a', 60_000)).toBe(false);
      expect(await ctx.kv.exists(short)).toBe(false);
    });

    it('reading a key of another type fails as an unavailable store (as Redis WRONGTYPE)', async () => {
      const k = ctx.key();
      await ctx.fixture.stores.sessionIndex.addToIndex(k, 'member', Date.now() + 60_000, 60_000);
      await expect(ctx.kv.get(k)).rejects.toBeInstanceOf(SessionStoreUnavailableError);
      await expect(ctx.kv.compareAndSet(k, 'x', 'y', 60_000)).rejects.toBeInstanceOf(
        SessionStoreUnavailableError,
      );
      expect(await ctx.fixture.stores.sessionIndex.indexMembers(k)).toEqual(['member']);
    });
  });
}
