import * as jose from 'jose';
import { ASYMMETRIC_JWS_ALGS } from '../config/id-token-algs.js';

/**
 * ID-token signature checks. openid-client v6 trusts an ID token from the token endpoint without
 * checking its signature (and accepts any `alg` the IdP lists, `none` included), so every ID token
 * is verified here against the IdP's JWKS, with an allowed asymmetric `alg`, before it is used.
 */

/** A JWKS lookup for an unknown `kid` re-fetches at most this often (a rotated key is picked up fast). */
const JWKS_COOLDOWN_MS = 5_000;
const JWKS_TIMEOUT_MS = 10_000;

/** The ID token failed validation (signature, alg, key, claims): the answer is refused. */
export class IdTokenRejectedError extends Error {
  override readonly name = 'IdTokenRejectedError';
}

/** The IdP's JWKS could not be fetched: the IdP is unavailable, the token was not judged. */
export class IdTokenKeysUnavailableError extends Error {
  override readonly name = 'IdTokenKeysUnavailableError';
}

/**
 * The algorithms accepted: the configured list, else what the IdP advertises without `none` and
 * `HS*` (a shared-secret signature proves nothing the client could not forge itself), else RS256,
 * the OpenID Connect default.
 */
export function allowedIdTokenAlgs(configured: readonly string[] | undefined, advertised: unknown): string[] {
  if (configured !== undefined) return [...configured];
  const listed = Array.isArray(advertised)
    ? advertised.filter((alg): alg is string => typeof alg === 'string')
    : ['RS256'];
  return listed.filter((alg) => ASYMMETRIC_JWS_ALGS.includes(alg));
}

export interface IdTokenVerifierOptions {
  issuer: string;
  clientId: string;
  jwksUri: string | undefined;
  algorithms: string[];
  clockToleranceSec: number;
}

export class IdTokenVerifier {
  private readonly jwks: ReturnType<typeof jose.createRemoteJWKSet> | undefined;

  constructor(private readonly options: IdTokenVerifierOptions) {
    this.jwks =
      options.jwksUri === undefined
        ? undefined
        : jose.createRemoteJWKSet(new URL(options.jwksUri), {
            cooldownDuration: JWKS_COOLDOWN_MS,
            timeoutDuration: JWKS_TIMEOUT_MS,
          });
  }

  get algorithms(): readonly string[] {
    return this.options.algorithms;
  }

  /** Verifies signature, alg, issuer, audience and time claims; returns the claims. */
  async verify(idToken: string): Promise<jose.JWTPayload> {
    if (this.jwks === undefined) throw new IdTokenRejectedError('the IdP publishes no jwks_uri');
    if (this.options.algorithms.length === 0) {
      throw new IdTokenRejectedError('no allowed ID-token signing algorithm (see OIDC_ID_TOKEN_ALGS)');
    }
    try {
      const { payload } = await jose.jwtVerify(idToken, this.jwks, {
        algorithms: this.options.algorithms,
        issuer: this.options.issuer,
        audience: this.options.clientId,
        clockTolerance: this.options.clockToleranceSec,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      // jose checks `iat` only together with a maximum age; a token from the future is refused here.
      if (payload.iat! > Date.now() / 1000 + this.options.clockToleranceSec) {
        throw new IdTokenRejectedError('ID token rejected: its "iat" is in the future');
      }
      return payload;
    } catch (err) {
      if (err instanceof IdTokenRejectedError) throw err;
      if (keysUnreachable(err)) {
        throw new IdTokenKeysUnavailableError(`the IdP's JWKS could not be fetched: ${reason(err)}`, {
          cause: err,
        });
      }
      throw new IdTokenRejectedError(`ID token rejected: ${reason(err)}`, { cause: err });
    }
  }
}

/** A fetch failure, timeout or broken JWKS document, as opposed to a token that fails the checks. */
function keysUnreachable(err: unknown): boolean {
  if (!(err instanceof jose.errors.JOSEError)) return true;
  return (
    err instanceof jose.errors.JWKSTimeout ||
    err instanceof jose.errors.JWKSInvalid ||
    err.code === 'ERR_JOSE_GENERIC'
  );
}

/** The error's code and message: never the token itself (jose's messages do not quote it). */
function reason(err: unknown): string {
  if (err instanceof jose.errors.JOSEError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
