/**
 * DPoP proofs signed as a client would, or as an attacker would (overrides), for the tests of the
 * verifying upstream and of the gateway. The checks themselves are src/dev/resource-checks.ts (the demo
 * APIs use them too), re-exported here.
 */
import { randomUUID, type webcrypto } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import { ath } from '../../src/dev/resource-checks.js';

export * from '../../src/dev/resource-checks.js';

type CryptoKey = webcrypto.CryptoKey;

export interface ProofInput {
  /** The key that signs; its public half goes in the header unless `headerKey` overrides it (a forgery). */
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  headerKey?: CryptoKey;
  htm: string;
  htu: string;
  /** The token the proof is for (its `ath`); omitted: no ath claim. */
  token?: string;
  iat?: number;
  jti?: string;
  nonce?: string;
  typ?: string;
  alg?: string;
}

/** Signs a DPoP proof as a client would (or, with the overrides, as an attacker would). */
export async function signDpopProof(input: ProofInput): Promise<string> {
  const jwk = await exportJWK(input.headerKey ?? input.publicKey);
  return new SignJWT({
    htm: input.htm,
    htu: input.htu,
    ...(input.token !== undefined ? { ath: ath(input.token) } : {}),
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
  })
    .setProtectedHeader({ alg: input.alg ?? 'ES256', typ: input.typ ?? 'dpop+jwt', jwk })
    .setIssuedAt(input.iat ?? Math.floor(Date.now() / 1000))
    .setJti(input.jti ?? randomUUID())
    .sign(input.privateKey);
}
