/**
 * What a resource server checks (the demo APIs, api.ts; the tests' verifying upstream): the JWT access
 * token (RFC 9068: signature against the IdP's JWKS, issuer, `typ: at+jwt`, its own audience,
 * expiry) and, for DPoP (RFC 9449 §4.3, §7), the proof: `typ: dpop+jwt`, its signature by the public key
 * in its header, `htm`, `htu`, `ath`, a fresh `iat`, an unseen `jti`, the nonce when one is demanded, and
 * the token's `cnf.jkt` = that key's thumbprint.
 */
import { createHash } from 'node:crypto';
import {
  EmbeddedJWK,
  calculateJwkThumbprint,
  errors as joseErrors,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

/** A refusal: the `error` of the challenge and a short reason (recorded, and sent as error_description). */
export class Refusal extends Error {
  constructor(
    readonly error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_request',
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export async function verifyAccessToken(
  token: string,
  jwks: JWTVerifyGetKey,
  issuer: string,
  audience: string,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt' })).payload;
  } catch (err) {
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud')
      throw new Refusal('invalid_token', 'wrong audience');
    if (err instanceof joseErrors.JWTExpired) throw new Refusal('invalid_token', 'token expired');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed)
      throw new Refusal('invalid_token', 'bad token signature');
    throw new Refusal('invalid_token', `token refused (${(err as Error).message})`);
  }
}

export interface ProofExpectations {
  method: string;
  /** The URL the proof must name: scheme, host and path, no query or fragment. */
  url: string;
  token: string;
  /** The token's `cnf.jkt`. */
  jkt: string;
  /** Seconds either side of now an `iat` may be. */
  maxAgeSeconds: number;
  /** The nonce the proof must carry, or undefined when none is demanded. */
  nonce: string | undefined;
  /** Remembers a jti; false when it was seen already (a replay). */
  remember(jti: string): boolean;
}

/** Checks one DPoP proof; returns its key's thumbprint. */
export async function verifyProof(proof: string, expect: ProofExpectations): Promise<string> {
  let payload: JWTPayload;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256'],
    });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch (err) {
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'typ')
      throw new Refusal('invalid_dpop_proof', 'proof typ is not dpop+jwt');
    throw new Refusal('invalid_dpop_proof', 'bad proof signature');
  }
  if ('d' in jwk) throw new Refusal('invalid_dpop_proof', 'private key in proof header');
  if (payload.htm !== expect.method) throw new Refusal('invalid_dpop_proof', 'htm mismatch');
  const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
  if (htu) htu.search = htu.hash = '';
  if (htu?.href !== new URL(expect.url).href) throw new Refusal('invalid_dpop_proof', 'htu mismatch');
  if (payload.ath !== ath(expect.token)) throw new Refusal('invalid_dpop_proof', 'ath mismatch');
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > expect.maxAgeSeconds)
    throw new Refusal('invalid_dpop_proof', 'iat not fresh');
  if (typeof payload.jti !== 'string' || payload.jti === '')
    throw new Refusal('invalid_dpop_proof', 'no jti');
  if (expect.nonce !== undefined && payload.nonce !== expect.nonce)
    throw new Refusal('use_dpop_nonce', 'nonce required');
  const thumbprint = await calculateJwkThumbprint(jwk);
  if (thumbprint !== expect.jkt) throw new Refusal('invalid_dpop_proof', 'proof key does not match cnf.jkt');
  // Last: a proof refused for another reason does not burn its jti.
  if (!expect.remember(payload.jti)) throw new Refusal('invalid_dpop_proof', 'replayed jti');
  return thumbprint;
}
