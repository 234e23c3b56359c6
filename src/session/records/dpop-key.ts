import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * OIDC_DPOP's keys as the session record keeps them: only the P-256 private scalar `d` (base64url,
 * 43 characters), since the public point follows from it; the record grows by about 60 bytes instead
 * of the 150 of a whole JWK. Expanding costs about half a millisecond, so callers cache the result.
 */
export interface DpopJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
}

/** PKCS#8 for an EC P-256 private key without its public point, up to the 32 bytes of `d`. */
const PKCS8_P256_PREFIX = Buffer.from(
  '3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420',
  'hex',
);

/** A new key, as stored. */
export function newDpopKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' }).d!;
}

/** The stored key as a node:crypto private key (throws on a value that is not a P-256 scalar). */
export function dpopPrivateKey(stored: string): KeyObject {
  const d = Buffer.from(stored, 'base64url');
  if (d.length !== 32) throw new Error('a DPoP key must be a 32-byte P-256 scalar');
  return createPrivateKey({ key: Buffer.concat([PKCS8_P256_PREFIX, d]), format: 'der', type: 'pkcs8' });
}

/** The stored key as a whole private JWK (its public half: without `d`). */
export function dpopJwk(stored: string, privateKey = dpopPrivateKey(stored)): DpopJwk {
  const { x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x: x!, y: y!, d: stored };
}
