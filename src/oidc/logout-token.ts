import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { GatewayConfig } from '../config/types.js';
import { allowedIdTokenAlgs } from './id-token.js';
import type { IdentityProvider } from './provider.js';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A logout token issued longer ago than this is refused (its `jti` need not be remembered longer). */
export const LOGOUT_TOKEN_MAX_AGE_SEC = 600;

export class InvalidLogoutToken extends Error {}

export interface LogoutClaims {
  sid: string | undefined;
  sub: string | undefined;
  jti: string;
  /** How long the jti must be remembered to refuse a replay. */
  rememberJtiMs: number;
}

/**
 * Validates a Logout Token per OpenID Connect Back-Channel Logout 1.0, section 2.6: signature with the
 * IdP's keys and an allowed `alg` (never `none`), `iss`, `aud`, `iat` at most 10 minutes old and not in
 * the future beyond the clock tolerance, `exp` required and not passed, the
 * back-channel `events` member, `sid` or `sub`, no `nonce`, a `jti`. (Replay of the `jti` is checked by
 * the caller against the store.)
 */
export class LogoutTokenValidator {
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(
    private readonly idp: IdentityProvider,
    private readonly oidc: GatewayConfig['oidc'],
  ) {}

  async validate(token: string): Promise<LogoutClaims> {
    const meta = this.idp.metadata;
    if (!meta.jwks_uri) throw new InvalidLogoutToken('the IdP publishes no jwks_uri');
    this.jwks ??= createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: 10_000 });
    // The same algorithms as ID tokens (OIDC_ID_TOKEN_ALGS, else advertised without none and HS*).
    const algorithms = allowedIdTokenAlgs(this.oidc.idTokenAlgs, meta.id_token_signing_alg_values_supported);
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(token, this.jwks, {
        issuer: meta.issuer,
        audience: this.oidc.clientId,
        algorithms,
        clockTolerance: this.oidc.clockToleranceSec,
        // maxTokenAge also refuses an `iat` in the future beyond the tolerance.
        maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SEC,
        requiredClaims: ['iat', 'exp', 'jti'],
      }));
    } catch (err) {
      throw new InvalidLogoutToken(`logout token rejected: ${(err as Error).message}`);
    }
    // Explicit typing (logout+jwt) is recommended; refuse only a token typed as something else.
    if (typ !== undefined && !['logout+jwt', 'application/logout+jwt', 'JWT'].includes(typ)) {
      throw new InvalidLogoutToken(`unexpected typ ${typ}`);
    }
    const events = payload.events as Record<string, unknown> | undefined;
    const event = events?.[BACKCHANNEL_EVENT];
    if (typeof event !== 'object' || event === null || Array.isArray(event))
      throw new InvalidLogoutToken('no back-channel logout event');
    if ('nonce' in payload) throw new InvalidLogoutToken('a logout token must not contain a nonce');
    const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
    if (sid === undefined && sub === undefined) throw new InvalidLogoutToken('neither sid nor sub');
    if (typeof payload.jti !== 'string' || payload.jti === '') throw new InvalidLogoutToken('no jti');
    // A replay is refused by `exp` or `iat` once either has passed: remember the jti until then.
    const usableUntilSec = Math.min(payload.exp!, payload.iat! + LOGOUT_TOKEN_MAX_AGE_SEC);
    const rememberJtiMs = Math.max((usableUntilSec + this.oidc.clockToleranceSec) * 1000 - Date.now(), 1000);
    return { sid, sub, jti: payload.jti, rememberJtiMs };
  }
}
