import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM sealing of everything the gateway stores about a browser.
 *
 * The key for one record is derived (HKDF-SHA256) from a server key AND a secret only the browser holds
 * (its session id or login id). A dump of the store plus the gateway's configuration therefore decrypts
 * nothing without the browser's cookie. Key rotation: the first server key seals, every key opens.
 *
 * Envelope: `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts). `kid` names the server key (a short
 * hash of it) so opening does not have to try every key.
 */
export class Vault {
  private readonly keys: { kid: string; key: Buffer }[];

  constructor(serverKeys: Buffer[]) {
    if (serverKeys.length === 0) throw new Error('Vault needs at least one key');
    this.keys = serverKeys.map((key) => ({
      kid: createHash('sha256').update('bff-kid').update(key).digest('base64url').slice(0, 8),
      key,
    }));
  }

  /** `purpose` separates kinds of records (a login record cannot be replayed as a session). */
  seal(plaintext: string, browserSecret: string, purpose: string): string {
    const { kid, key } = this.keys[0]!;
    const iv = randomBytes(12);
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
}

function recordKey(serverKey: Buffer, browserSecret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', serverKey, browserSecret, `bff-record:${purpose}`, 32));
}

/** What the store uses instead of a browser's secret id: never reversible to the id itself. */
export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}
