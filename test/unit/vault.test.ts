import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Vault, hashId, hkdfSha256 } from '../../src/session/vault.js';

describe('Vault', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('opens what it sealed, with the same browser secret and purpose', () => {
    const vault = new Vault([k1]);
    const sealed = vault.seal('{"a":1}', 'sid-1', 'session');
    expect(sealed).not.toContain('"a"');
    expect(vault.open(sealed, 'sid-1', 'session')).toBe('{"a":1}');
  });

  it('cannot open without the browser secret, or for another purpose', () => {
    const vault = new Vault([k1]);
    const sealed = vault.seal('secret', 'sid-1', 'session');
    expect(vault.open(sealed, 'sid-2', 'session')).toBeUndefined();
    expect(vault.open(sealed, 'sid-1', 'pending-login')).toBeUndefined();
  });

  it('rotates: the first key seals, every key opens', () => {
    const old = new Vault([k1]).seal('x', 's', 'session');
    const rotated = new Vault([k2, k1]);
    expect(rotated.open(old, 's', 'session')).toBe('x');
    const fresh = rotated.seal('y', 's', 'session');
    expect(new Vault([k1]).open(fresh, 's', 'session')).toBeUndefined();
    expect(new Vault([k2]).open(fresh, 's', 'session')).toBe('y');
  });

  it('rejects tampering and garbage', () => {
    const vault = new Vault([k1]);
    const sealed = vault.seal('hello', 's', 'session');
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(vault.open(parts.join('.'), 's', 'session')).toBeUndefined();
    expect(vault.open('not-an-envelope', 's', 'session')).toBeUndefined();
    expect(vault.open('v1.a.b.c.d', 's', 'session')).toBeUndefined();
  });

  describe('bytes envelope', () => {
    const plain = Buffer.from('{"a":1} and some bytes \u0000\u00ff');

    it('opens what it sealed, with the same browser secret and purpose; 35 bytes of overhead', () => {
      const vault = new Vault([k1]);
      const sealed = vault.sealBytes(plain, 'sid-1', 'session');
      expect(sealed.length).toBe(plain.length + 35);
      expect(sealed[0]).toBe(0x02);
      expect(sealed.includes(Buffer.from('"a"'))).toBe(false);
      expect(vault.openBytes(sealed, 'sid-1', 'session')).toEqual(plain);
    });

    it('cannot open without the browser secret, or for another purpose', () => {
      const vault = new Vault([k1]);
      const sealed = vault.sealBytes(plain, 'sid-1', 'session');
      expect(vault.openBytes(sealed, 'sid-2', 'session')).toBeUndefined();
      expect(vault.openBytes(sealed, 'sid-1', 'pending-login')).toBeUndefined();
    });

    it('rotates: the first key seals, every key opens; the kid is the text envelope kid', () => {
      const old = new Vault([k1]).sealBytes(plain, 's', 'session');
      const rotated = new Vault([k2, k1]);
      expect(rotated.openBytes(old, 's', 'session')).toEqual(plain);
      const fresh = rotated.sealBytes(plain, 's', 'session');
      expect(new Vault([k1]).openBytes(fresh, 's', 'session')).toBeUndefined();
      expect(new Vault([k2]).openBytes(fresh, 's', 'session')).toEqual(plain);
      const textKid = new Vault([k2]).seal('x', 's', 'session').split('.')[1];
      expect(fresh.subarray(1, 7).toString('base64url')).toBe(textKid);
    });

    it('rejects any changed byte, a cut tag, garbage, and a text envelope', () => {
      const vault = new Vault([k1]);
      const sealed = vault.sealBytes(plain, 's', 'session');
      // kid (1), iv (7), ciphertext (19), tag (last): a wrong kid falls back to trying every key.
      for (const at of [1, 7, 19, sealed.length - 1]) {
        const tampered = Buffer.from(sealed);
        tampered[at] = tampered[at]! ^ 1;
        expect(vault.openBytes(tampered, 's', 'session'), `byte ${at}`).toEqual(at === 1 ? plain : undefined);
      }
      expect(vault.openBytes(sealed.subarray(0, sealed.length - 4), 's', 'session')).toBeUndefined();
      expect(vault.openBytes(Buffer.alloc(0), 's', 'session')).toBeUndefined();
      expect(vault.openBytes(Buffer.alloc(40, 2), 's', 'session')).toBeUndefined();
      const text = Buffer.from(vault.seal('x', 's', 'session'));
      expect(vault.openBytes(text, 's', 'session')).toBeUndefined();
    });

    it('a text envelope cut into the bytes layout does not open: the version byte is authenticated', () => {
      const vault = new Vault([k1]);
      const [, kid, iv, ct, tag] = vault.seal('hello', 's', 'session').split('.') as string[];
      const spliced = Buffer.concat([
        Buffer.of(0x02),
        ...[kid, iv, ct, tag].map((part) => Buffer.from(part!, 'base64url')),
      ]);
      expect(vault.openBytes(spliced, 's', 'session')).toBeUndefined();
    });
  });

  it('derives record keys with HKDF-SHA256: the same bytes as node:crypto hkdfSync', () => {
    for (const salt of ['', 'sid-1', randomBytes(24).toString('base64url'), 'é'.repeat(100)]) {
      const ikm = randomBytes(32);
      const info = `bff-record:${randomBytes(4).toString('hex')}`;
      expect(hkdfSha256(ikm, salt, info)).toEqual(Buffer.from(hkdfSync('sha256', ikm, salt, info, 32)));
    }
  });

  it('hashId is stable and does not contain the id', () => {
    expect(hashId('abc')).toBe(hashId('abc'));
    expect(hashId('abc')).not.toContain('abc');
    expect(hashId('abc')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
