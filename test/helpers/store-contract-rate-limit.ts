/** The store contract's domain part for rate limits: fixed windows that end with their key's TTL. */
import { describe, expect, it } from 'vitest';
import { untilGone, type ContractContext } from './store-contract-context.js';

export function describeRateLimitContract(ctx: ContractContext): void {
  describe('rate-limit counters', () => {
    const store = () => ctx.fixture.stores.rateLimits;
    const counter = () => ctx.keys.rateLimit('login', ctx.id('client'));

    it('hit counts within one window; the window is the key TTL, read back as resetMs', async () => {
      const k = counter();
      const first = await store().hit(k, 60_000);
      expect(first.count).toBe(1);
      expect(first.resetMs).toBeGreaterThan(55_000);
      expect(first.resetMs).toBeLessThanOrEqual(60_000);
      expect((await store().hit(k, 60_000)).count).toBe(2);
      const third = await store().hit(k, 60_000);
      expect(third.count).toBe(3);
      expect(third.resetMs).toBeLessThanOrEqual(first.resetMs);
      expect(await ctx.fixture.pttl(k)).toBeLessThanOrEqual(60_000);
      expect(await ctx.fixture.pttl(k)).toBeGreaterThan(55_000);
    });

    it('later hits neither extend nor shorten the window; Retry-After is what is left of it', async () => {
      const k = counter();
      await store().hit(k, 60_000);
      const shorter = await store().hit(k, 1_000);
      expect(shorter.resetMs).toBeGreaterThan(55_000);
      const longer = await store().hit(k, 600_000);
      expect(longer.resetMs).toBeLessThanOrEqual(60_000);
    });

    it('a window ends with its key; the next hit opens a new one', async () => {
      const k = counter();
      await store().hit(k, 150);
      expect((await store().hit(k, 150)).count).toBe(2);
      await untilGone(ctx.kv, k);
      const next = await store().hit(k, 60_000);
      expect(next.count).toBe(1);
      expect(next.resetMs).toBeGreaterThan(55_000);
    });

    it('reserve takes a slot up to max, then refuses without counting', async () => {
      const k = counter();
      for (let i = 1; i <= 3; i++)
        expect(await store().reserve(k, 3, 60_000)).toMatchObject({ count: i, taken: true });
      const refused = await store().reserve(k, 3, 60_000);
      expect(refused).toMatchObject({ count: 3, taken: false });
      expect(refused.resetMs).toBeGreaterThan(55_000);
      expect(refused.resetMs).toBeLessThanOrEqual(60_000);
      expect(await store().reserve(k, 3, 60_000)).toMatchObject({ count: 3, taken: false });
    });

    it('release gives a slot back within the window, keeping its TTL', async () => {
      const k = counter();
      await store().reserve(k, 2, 60_000);
      await store().reserve(k, 2, 60_000);
      expect((await store().reserve(k, 2, 60_000)).taken).toBe(false);
      await store().release(k);
      expect(await ctx.fixture.pttl(k)).toBeGreaterThan(55_000);
      expect(await store().reserve(k, 2, 60_000)).toMatchObject({ count: 2, taken: true });
      expect((await store().reserve(k, 2, 60_000)).taken).toBe(false);
    });

    it('release never creates a counter: a missing or expired window stays gone', async () => {
      const missing = counter();
      await store().release(missing);
      expect(await ctx.kv.exists(missing)).toBe(false);

      const k = counter();
      expect((await store().reserve(k, 1, 150)).taken).toBe(true);
      expect((await store().reserve(k, 1, 150)).taken).toBe(false);
      await untilGone(ctx.kv, k);
      await store().release(k);
      expect(await ctx.kv.exists(k)).toBe(false);
      // A new window: the slot is there again, with a full window.
      const fresh = await store().reserve(k, 1, 60_000);
      expect(fresh).toMatchObject({ count: 1, taken: true });
      expect(fresh.resetMs).toBeGreaterThan(55_000);
    });

    it('hit and reserve on one key count together (the same counter)', async () => {
      const k = counter();
      await store().hit(k, 60_000);
      expect(await store().reserve(k, 2, 60_000)).toMatchObject({ count: 2, taken: true });
      expect(await store().reserve(k, 2, 60_000)).toMatchObject({ count: 2, taken: false });
      expect((await store().hit(k, 60_000)).count).toBe(3);
    });
  });
}
