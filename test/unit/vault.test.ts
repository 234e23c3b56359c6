import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Vault, hashId } from '../../src/session/vault.js';

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

  it('hashId is stable and does not contain the id', () => {
    expect(hashId('abc')).toBe(hashId('abc'));
    expect(hashId('abc')).not.toContain('abc');
    expect(hashId('abc')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
