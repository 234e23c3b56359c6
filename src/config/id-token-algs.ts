import { Invalid } from './invalid.js';

/** The JWS algorithms an ID token may be verified with: asymmetric only, so a JWKS can hold the key. */
export const ASYMMETRIC_JWS_ALGS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/**
 * OIDC_ID_TOKEN_ALGS / oidc.idTokenAlgs: the ID-token signing algorithms the gateway accepts. Only
 * asymmetric ones: ID tokens are verified against the IdP's JWKS, `none` proves nothing and an HS*
 * signature made with the client secret is one anybody holding that secret can forge.
 */
export function parseIdTokenAlgs(value: string | readonly string[]): string[] {
  const items = (typeof value === 'string' ? value.split(',') : value)
    .map((alg) => alg.trim())
    .filter((alg) => alg !== '');
  if (items.length === 0) throw new Invalid(`must name at least one algorithm, e.g. RS256`);
  const bad = items.find((alg) => !ASYMMETRIC_JWS_ALGS.includes(alg));
  if (bad !== undefined) {
    throw new Invalid(
      `has ${JSON.stringify(bad.slice(0, 40))}, which is not an accepted ID-token algorithm: use a comma-separated list of ${ASYMMETRIC_JWS_ALGS.join(', ')} (never none or HS*)`,
    );
  }
  return [...new Set(items)];
}
