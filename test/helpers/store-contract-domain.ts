/** The store contract's domain parts for pending logins and the back-channel session index. */
import { describe, expect, it } from 'vitest';
import { untilGone, type ContractContext } from './store-contract-context.js';

const ISSUER = 'https://idp.example.com';

export function describePendingLoginContract(ctx: ContractContext): void {
  describe('pending logins', () => {
    /** The keys of one browser's attempts, as the gateway lays them out (one hash tag per browser). */
    const browser = () => {
      const loginId = ctx.id('browser');
      return {
        index: ctx.keys.pendingLoginIndex(loginId),
        attempt: (state: string) => ctx.keys.pendingLogin(loginId, state),
      };
    };
    const store = () => ctx.fixture.stores.pendingLogins;

    it('take returns an attempt once; a completed login leaves no key behind', async () => {
      const b = browser();
      await store().put(b.index, b.attempt('s1'), 'sealed-1', 60_000, 5);
      expect(await ctx.kv.exists(b.attempt('s1'))).toBe(true);
      expect(await ctx.kv.exists(b.index)).toBe(true);
      expect(await store().take(b.index, b.attempt('s1'))).toBe('sealed-1');
      expect(await store().take(b.index, b.attempt('s1'))).toBeNull();
      expect(await ctx.kv.exists(b.attempt('s1'))).toBe(false);
      expect(await ctx.kv.exists(b.index)).toBe(false);
    });

    it('two tabs: each attempt is its own, the index stays until the last one is taken', async () => {
      const b = browser();
      await store().put(b.index, b.attempt('tab-1'), 'one', 60_000, 5);
      await store().put(b.index, b.attempt('tab-2'), 'two', 60_000, 5);
      expect(await store().take(b.index, b.attempt('unknown'))).toBeNull();
      expect(await store().take(b.index, b.attempt('tab-2'))).toBe('two');
      expect(await ctx.kv.exists(b.index)).toBe(true);
      expect(await store().take(b.index, b.attempt('tab-1'))).toBe('one');
      expect(await ctx.kv.exists(b.index)).toBe(false);
    });

    it('beyond max the oldest attempts are evicted (also within one millisecond), others stay', async () => {
      const b = browser();
      const states = ['s0', 's1', 's2', 's3', 's4', 's5', 's6'];
      for (const state of states) await store().put(b.index, b.attempt(state), `v-${state}`, 60_000, 5);
      for (const state of ['s0', 's1']) {
        expect(await ctx.kv.exists(b.attempt(state)), state).toBe(false);
        expect(await store().take(b.index, b.attempt(state)), state).toBeNull();
      }
      for (const state of states.slice(2))
        expect(await store().take(b.index, b.attempt(state)), state).toBe(`v-${state}`);
      expect(await ctx.kv.exists(b.index)).toBe(false);
    });

    it('storing an attempt again makes it the newest', async () => {
      const b = browser();
      for (const state of ['a', 'b', 'a', 'c'])
        await store().put(b.index, b.attempt(state), state, 60_000, 2);
      expect(await store().take(b.index, b.attempt('b'))).toBeNull();
      expect(await store().take(b.index, b.attempt('a'))).toBe('a');
      expect(await store().take(b.index, b.attempt('c'))).toBe('c');
    });

    it('attempt and index get the TTL and expire with it', async () => {
      const b = browser();
      await store().put(b.index, b.attempt('s'), 'v', 60_000, 5);
      for (const key of [b.index, b.attempt('s')]) {
        expect(await ctx.fixture.pttl(key)).toBeGreaterThan(55_000);
        expect(await ctx.fixture.pttl(key)).toBeLessThanOrEqual(60_000);
      }
      const c = browser();
      await store().put(c.index, c.attempt('s'), 'v', 150, 5);
      await untilGone(ctx.kv, c.attempt('s'));
      await untilGone(ctx.kv, c.index);
      expect(await store().take(c.index, c.attempt('s'))).toBeNull();
    });
  });
}

export function describeIndexContract(ctx: ContractContext): void {
  describe('back-channel session index', () => {
    const store = () => ctx.fixture.stores.sessionIndex;
    const indexKey = () => ctx.keys.sessionsBySub(ISSUER, ctx.id('sub'));
    const later = () => Date.now() + 3600_000;

    it('members come and go; the last one out removes the key', async () => {
      const k = indexKey();
      await store().addToIndex(k, 'a', later(), 3600_000);
      await store().addToIndex(k, 'b', later(), 3600_000);
      await store().addToIndex(k, 'a', later(), 3600_000);
      expect((await store().indexMembers(k)).sort()).toEqual(['a', 'b']);
      await store().removeFromIndex(k, 'a');
      expect(await store().indexMembers(k)).toEqual(['b']);
      await store().removeFromIndex(k, 'b');
      expect(await store().indexMembers(k)).toEqual([]);
      expect(await ctx.kv.exists(k)).toBe(false);
      await store().removeFromIndex(k, 'b'); // on a missing index: nothing happens
      expect(await ctx.kv.exists(k)).toBe(false);
      expect(await store().indexMembers(indexKey())).toEqual([]);
    });

    it('adding drops the members whose session has ended, also those that ended since they came', async () => {
      const k = indexKey();
      await store().addToIndex(k, 'ended', Date.now() - 2_000, 3600_000);
      expect(await store().indexMembers(k)).toEqual([]);
      expect(await ctx.kv.exists(k)).toBe(false);
      await store().addToIndex(k, 'soon', Date.now() + 500, 3600_000);
      await store().addToIndex(k, 'live', later(), 3600_000);
      expect((await store().indexMembers(k)).sort()).toEqual(['live', 'soon']);
      // Ends are whole seconds: once `soon` has ended, the next add sheds it.
      await expect
        .poll(
          async () => {
            await store().addToIndex(k, 'live', later(), 3600_000);
            return store().indexMembers(k);
          },
          { interval: 100, timeout: 5_000 },
        )
        .toEqual(['live']);
    });

    it('the index gets a TTL, which a later add extends but never shortens', async () => {
      const k = indexKey();
      await store().addToIndex(k, 'a', later(), 60_000);
      const first = await ctx.fixture.pttl(k);
      expect(first).toBeGreaterThan(50_000);
      expect(first).toBeLessThanOrEqual(60_000);
      await store().addToIndex(k, 'b', later(), 1_000);
      expect(await ctx.fixture.pttl(k)).toBeGreaterThan(50_000);
      await store().addToIndex(k, 'c', later(), 120_000);
      expect(await ctx.fixture.pttl(k)).toBeGreaterThan(110_000);
      await store().removeFromIndex(k, 'a'); // removing a member keeps the TTL
      expect(await ctx.fixture.pttl(k)).toBeGreaterThan(110_000);
    });

    it('an index expires as a whole with its TTL', async () => {
      const k = indexKey();
      await store().addToIndex(k, 'a', later(), 150);
      await untilGone(ctx.kv, k);
      expect(await store().indexMembers(k)).toEqual([]);
    });

    it('the generic del removes an index (how back-channel logout drops it)', async () => {
      const k = indexKey();
      await store().addToIndex(k, 'a', later(), 60_000);
      await ctx.kv.del(k);
      expect(await store().indexMembers(k)).toEqual([]);
    });

    it('legacy sets read as their members; a missing one is empty', async () => {
      const k = ctx.keys.legacySessionsBySub(ISSUER, ctx.id('sub'));
      const seed = ctx.fixture.seedLegacySet;
      // Memory never holds a set of an older version (nothing outlives the process): always empty.
      if (seed) await seed(k, ['h1', 'h2']);
      expect((await store().setMembers(k)).sort()).toEqual(seed ? ['h1', 'h2'] : []);
      expect(await store().setMembers(ctx.keys.legacySessionsBySub(ISSUER, ctx.id('sub')))).toEqual([]);
    });
  });
}
