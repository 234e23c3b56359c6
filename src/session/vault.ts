import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM sealing of everything the gateway stores about a browser.
 *
 * The key for one record is derived (HKDF-SHA256) from a server key AND a secret only the browser holds
 * (its session id or login id). A dump of the store plus the gateway's configuration therefore decrypts
 * nothing without the browser's cookie. Key rotation: the first server key seals, every key opens.
 *
 * Two envelopes, both naming the server key by `kid` (a short hash of it) so opening does not have to try
 * every key:
 * - text, `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts), for values kept in JSON or strings;
 * - bytes, `0x02 | kid (6) | iv (12) | ciphertext | tag (16)`, for values stored as they are: a quarter
 *   smaller than base64. Its first byte can never begin the text envelope or JSON.
 */
export class Vault {
  private readonly keys: { kid: string; kidBytes: Buffer; key: Buffer }[];

  constructor(serverKeys: Buffer[]) {
    if (serverKeys.length === 0) throw new Error('Vault needs at least one key');
    this.keys = serverKeys.map((key) => {
      const kidBytes = createHash('sha256').update('bff-kid').update(key).digest().subarray(0, KID_BYTES);
      // The same 6 bytes as the text envelope's 8-character kid.
      return { kid: kidBytes.toString('base64url'), kidBytes, key };
    });
  }

  /** `purpose` separates kinds of records (a login record cannot be replayed as a session). */
  seal(plaintext: string, browserSecret: string, purpose: string): string {
    const { kid, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', recordKey(key, browserSecret, purpose), iv);
    cipher.setAAD(Buffer.from(purpose));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      kid,
      iv.toString('base64url'),
      ct.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /** Returns undefined when the envelope is malformed or no key opens it (wrong secret, tampering). */
  open(envelope: string, browserSecret: string, purpose: string): string | undefined {
    const parts = envelope.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') return undefined;
    const [, kid, iv, ct, tag] = parts as [string, string, string, string, string];
    const byKid = this.keys.filter((k) => k.kid === kid);
    for (const { key } of byKid.length > 0 ? byKid : this.keys) {
      try {
        const decipher = createDecipheriv(
          'aes-256-gcm',
          recordKey(key, browserSecret, purpose),
          Buffer.from(iv, 'base64url'),
          // A full tag only: a shortened one would make forgeries cheaper.
          { authTagLength: TAG_BYTES },
        );
        decipher.setAAD(Buffer.from(purpose));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        // wrong key or tampered: try the next one
      }
    }
    return undefined;
  }

  /** The bytes envelope of `plaintext`; see the class comment. */
  sealBytes(plaintext: Buffer, browserSecret: string, purpose: string): Buffer {
    const { kidBytes, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', recordKey(key, browserSecret, purpose), iv);
    cipher.setAAD(bytesAad(purpose));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([BYTES_VERSION, kidBytes, iv, ct, cipher.getAuthTag()]);
  }

  /** Undefined when `envelope` is not a bytes envelope or no key opens it (wrong secret, tampering). */
  openBytes(envelope: Buffer, browserSecret: string, purpose: string): Buffer | undefined {
    const ctStart = 1 + KID_BYTES + IV_BYTES;
    if (envelope.length < ctStart + TAG_BYTES || envelope[0] !== BYTES_VERSION[0]) return undefined;
    const kid = envelope.subarray(1, 1 + KID_BYTES);
    const iv = envelope.subarray(1 + KID_BYTES, ctStart);
    const ct = envelope.subarray(ctStart, envelope.length - TAG_BYTES);
    const tag = envelope.subarray(envelope.length - TAG_BYTES);
    const byKid = this.keys.filter((k) => k.kidBytes.equals(kid));
    for (const { key } of byKid.length > 0 ? byKid : this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', recordKey(key, browserSecret, purpose), iv, {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(bytesAad(purpose));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ct), decipher.final()]);
      } catch {
        // wrong key or tampered: try the next one
      }
    }
    return undefined;
  }
}

const KID_BYTES = 6;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BYTES_VERSION = Buffer.of(0x02);

/** The version byte is authenticated too, so a text envelope's ciphertext cannot pass as a bytes one. */
function bytesAad(purpose: string): Buffer {
  return Buffer.concat([BYTES_VERSION, Buffer.from(purpose)]);
}

function recordKey(serverKey: Buffer, browserSecret: string, purpose: string): Buffer {
  return hkdfSha256(serverKey, browserSecret, `bff-record:${purpose}`);
}

/**
 * HKDF-SHA256 (RFC 5869) for a 32-byte key, where expanding is a single HMAC block: the same bytes as
 * `hkdfSync('sha256', ikm, salt, info, 32)` at a third of its cost (two HMACs, without the job machinery
 * hkdfSync goes through), which matters because every seal and open derives a key.
 */
export function hkdfSha256(ikm: Buffer, salt: string, info: string): Buffer {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  return createHmac('sha256', prk).update(info).update(HKDF_FIRST_BLOCK).digest();
}
const HKDF_FIRST_BLOCK = Buffer.of(1);

/** What the store uses instead of a browser's secret id: never reversible to the id itself. */
export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}
