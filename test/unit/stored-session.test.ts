import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../../src/session/records/record-codec.js';
import { openStoredSession, sealStoredSession } from '../../src/session/records/sealed-record.js';
import { Vault } from '../../src/session/vault.js';
import { fakeJwt, legacyStoredSession, sampleRecord } from '../helpers/sessions.js';

const now = Date.now();

describe('record codec', () => {
  it('round-trips a record exactly, JWTs included', () => {
    const record = sampleRecord(now);
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
  });

  it('is much smaller than the JSON it replaces: JWTs unpacked, then deflated', () => {
    const record = sampleRecord(now);
    const encoded = encodeRecord(record);
    expect(encoded.length).toBeLessThan(JSON.stringify(record).length * 0.6);
  });

  it('keeps any token that would not come back byte for byte as it is', () => {
    const header = Buffer.from('{"alg":"RS256"}').toString('base64url');
    const tokens = [
      'opaque-token-0123456789',
      `${header}.${Buffer.from('{"a":1.0}').toString('base64url')}.sig`, // JSON not in canonical form
      `${header}.${Buffer.from('{"b":1,"1":2}').toString('base64url')}.sig`, // JSON.parse reorders keys
      `${header}=.${Buffer.from('{"a":1}').toString('base64url')}.sig`, // base64 padding
      `${header}.${Buffer.from([0xff, 0xfe]).toString('base64url')}.sig`, // not UTF-8 JSON
      `${header}.eyJhIjox.sig`, // not canonical base64url (trailing bits)
      'a.b.c.d.e', // JWE
      'é.ü.ß',
      '..',
      `${header}.${Buffer.from('{"name":"Zoë \\u2028 🙂"}').toString('base64url')}.`,
    ];
    for (const token of tokens) {
      const record = sampleRecord(now, {
        tokens: { ...sampleRecord(now).tokens, accessToken: token, idToken: token, refreshToken: token },
      });
      expect(decodeRecord(encodeRecord(record))?.tokens, token).toEqual(record.tokens);
    }
  });

  it('keeps absent tokens and claims of any shape', () => {
    const record = sampleRecord(now, {
      idpSid: undefined,
      claims: { sub: 'x', groups: ['a', 'b'], address: { country: 'DE' }, ü: null, n: 1.5 },
      tokens: {
        accessToken: fakeJwt({ sub: 'x' }),
        refreshToken: undefined,
        idToken: undefined,
        tokenType: 'DPoP',
        scope: undefined,
      },
    });
    const decoded = decodeRecord(encodeRecord(record))!;
    expect(decoded).toEqual(record);
    expect(decoded.tokens.refreshToken).toBeUndefined();
  });

  it('refuses anything it did not write', () => {
    for (const bytes of [[], [0x00, 0x7b, 0x7d], [0x01], [0x01, 1, 2, 3], [0x02, 0x7b, 0x7d], [0x7b, 0x7d]])
      expect(decodeRecord(Buffer.from(bytes))).toBeUndefined();
  });
});

describe('stored session', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('opens with the session id that sealed it, and with no other', () => {
    const vault = new Vault([k1]);
    const record = sampleRecord(now);
    const stored = sealStoredSession(vault, 'sid-1', record);
    expect(openStoredSession(vault, 'sid-1', stored)).toEqual(record);
    expect(openStoredSession(vault, 'sid-2', stored)).toBeUndefined();
    expect(stored.includes(Buffer.from('alice'))).toBe(false);
  });

  it('reads the format of earlier versions (JSON around a text envelope), under any known key', () => {
    const record = sampleRecord(now);
    const legacy = Buffer.from(legacyStoredSession(new Vault([k1]), 'sid-1', record));
    expect(openStoredSession(new Vault([k2, k1]), 'sid-1', legacy)).toEqual(record);
    expect(openStoredSession(new Vault([k1]), 'sid-2', legacy)).toBeUndefined();
    expect(openStoredSession(new Vault([k2]), 'sid-1', legacy)).toBeUndefined();
    expect(openStoredSession(new Vault([k1]), 'sid-1', Buffer.from('{"sealed":1}'))).toBeUndefined();
    expect(openStoredSession(new Vault([k1]), 'sid-1', Buffer.from('{not json'))).toBeUndefined();
  });

  it('key rotation: the first key seals, every key opens', () => {
    const record = sampleRecord(now);
    const before = sealStoredSession(new Vault([k1]), 'sid-1', record);
    const rotated = new Vault([k2, k1]);
    expect(openStoredSession(rotated, 'sid-1', before)).toEqual(record);
    const after = sealStoredSession(rotated, 'sid-1', record);
    expect(openStoredSession(new Vault([k2]), 'sid-1', after)).toEqual(record);
    expect(openStoredSession(new Vault([k1]), 'sid-1', after)).toBeUndefined();
  });
});
