import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/session/records/bounded-cache.js';
import { readSessionId } from '../../src/session/cookie/session-id.js';

/** express-session's cookie value: `s:<id>.<HMAC-SHA256 base64, no padding>`, URL-encoded. */
function signed(id: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return encodeURIComponent(`s:${id}.${mac}`);
}
function request(cookie: string | undefined): IncomingMessage {
  return { headers: cookie === undefined ? {} : { cookie } } as IncomingMessage;
}
const read = (value: string, secrets: string[]) =>
  readSessionId(request(`other=1; bff-session=${value}`), 'bff-session', secrets);

describe('readSessionId', () => {
  const id = randomBytes(24).toString('base64url');

  it('returns the id of a cookie signed by any of the secrets (rotation)', () => {
    const secrets = ['new-secret', 'old-secret'];
    expect(read(signed(id, 'new-secret'), secrets)).toBe(id);
    expect(read(signed(id, 'old-secret'), secrets)).toBe(id);
    expect(read(signed(id, 'old-secret'), secrets)).toBe(id); // again, from the cache
  });

  it('refuses a tampered cookie even while the valid one for the same id is cached', () => {
    const secrets = ['secret'];
    const valid = signed(id, 'secret');
    expect(read(valid, secrets)).toBe(id);
    const decoded = decodeURIComponent(valid);
    const flipped = decoded.slice(0, -1) + (decoded.endsWith('A') ? 'B' : 'A');
    for (const forged of [
      encodeURIComponent(flipped), // the signature changed
      signed(id, 'another-secret'), // signed by a secret this gateway does not have
      encodeURIComponent(`s:${id}.`), // no signature
      encodeURIComponent(`s:${id}`),
      id,
      encodeURIComponent(decoded.slice(0, -2)), // a cut signature
      `${valid}x`,
    ]) {
      expect(read(forged, secrets), forged).toBeUndefined();
    }
    expect(read(valid, secrets)).toBe(id);
  });

  it('a value verified under some secrets is verified anew under others', () => {
    const value = signed(id, 'retired');
    expect(read(value, ['current', 'retired'])).toBe(id);
    expect(read(value, ['current'])).toBeUndefined();
  });

  it('no cookie, another cookie, malformed encodings', () => {
    expect(readSessionId(request(undefined), 'bff-session', ['s'])).toBeUndefined();
    expect(readSessionId(request('bff-login=x'), 'bff-session', ['s'])).toBeUndefined();
    expect(read('%E0%A4%A', ['s'])).toBeUndefined();
    expect(read('', ['s'])).toBeUndefined();
  });
});

describe('BoundedCache', () => {
  it('keeps the most recently used entries up to its size', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // 'a' is now the most recent
    cache.set('c', 3); // evicts 'b'
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    expect(() => new BoundedCache(0)).toThrow();
  });

  it('never evicts an entry that keeps being read, whatever streams past it', () => {
    const cache = new BoundedCache<string, number>(10);
    cache.set('hot', 0);
    for (let i = 0; i < 1_000; i++) {
      cache.set(`cold-${i}`, i);
      expect(cache.get('hot')).toBe(0);
    }
    expect(cache.size).toBe(10);
    expect(cache.get('cold-0')).toBeUndefined();
    expect(cache.get('cold-999')).toBe(999);
  });
});
