import * as client from 'openid-client';
import { describeError, type Logger } from '../observability/logger.js';
import { userClaims } from '../session/records/record.js';
import type {
  GrantResult,
  RefreshableRecord,
  RefreshedTokens,
  RefreshGrant,
} from '../session/refresh/grant.js';
import { revokeRefreshToken } from './end-session.js';
import { classifyRefreshFailure, describeIdpFailure } from './idp-errors.js';
import type { IdentityProvider } from './provider.js';
import { refreshedIdTokenMismatch } from './refreshed-id-token.js';
import { accessTokenTimes, tokenSetFrom } from './token-response.js';

type TokenResponse = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

/**
 * The IdP's half of a refresh (the session's half, when and how often, is
 * session/refresh/session-refresher.ts): one refresh_token grant, the answer checked and classified.
 *
 * - A refusal is classified by idp-errors.ts: terminal (invalid_grant, a 400 invalid_request) ends the
 *   session; misconfigured (the IdP refused the gateway's client) and transient (no answer, 429, 5xx)
 *   keep it, logged here as an error and a warning.
 * - A returned ID token is verified like a sign-in's (signature, alg, iss, aud, times): one that fails
 *   is not a refusal by the IdP (it may be a key rotation in flight), so the session is kept.
 * - It must also be this sign-in's (refreshed-id-token.ts): one with another iss, aud or sub ends the
 *   session, and the refresh token it came with is revoked, never stored.
 */
export class IdpRefreshGrant implements RefreshGrant {
  constructor(
    private readonly idp: IdentityProvider,
    private readonly logger: Logger,
  ) {}

  async refresh(record: RefreshableRecord): Promise<GrantResult> {
    const spent = record.tokens.refreshToken;
    let response: TokenResponse;
    try {
      // OIDC_DPOP: the refreshed tokens stay bound to the session's key.
      const dpop = await this.idp.dpop.forSession(record.dpopKey);
      response = await this.idp.call('refresh', () =>
        client.refreshTokenGrant(this.idp.requireConfiguration(), spent, undefined, dpop),
      );
    } catch (err) {
      const failure = await describeIdpFailure(err);
      const kind = classifyRefreshFailure(failure);
      if (kind === 'terminal') {
        return {
          kind: 'terminal',
          reason: 'the IdP refused the refresh',
          details: { idp: failure, err: describeError(err) },
        };
      }
      this.logger[kind === 'misconfigured' ? 'error' : 'warn'](
        { sub: record.sub, idp: failure, err: describeError(err) },
        `refresh failed (${kind}); session kept`,
      );
      return { kind: 'transient', cause: err };
    }

    if (response.id_token !== undefined) {
      try {
        await this.idp.idTokens.verify(response.id_token);
      } catch (err) {
        this.logger.warn(
          { sub: record.sub, err: describeError(err) },
          'refresh: the ID token failed validation; answer discarded, session kept',
        );
        return { kind: 'transient', cause: err };
      }
    }
    const refreshed = this.refreshedTokens(record, response);
    if ('mismatch' in refreshed) {
      // Never stored: the tokens are not this sign-in's. Revoke the refresh token they came with.
      await this.discard(response.refresh_token ?? spent, record.sub);
      return { kind: 'terminal', reason: `the refreshed ID token has another ${refreshed.mismatch}` };
    }
    return { kind: 'tokens', refreshed };
  }

  discard(refreshToken: string | undefined, sub: string): Promise<void> {
    return revokeRefreshToken(this.idp, refreshToken, this.logger, sub);
  }

  private refreshedTokens(
    record: RefreshableRecord,
    response: TokenResponse,
  ): RefreshedTokens | { mismatch: 'iss' | 'aud' | 'sub' } {
    const idClaims = response.claims() as Record<string, unknown> | undefined;
    if (idClaims) {
      const { issuer } = this.idp.metadata;
      const clientId = this.idp.requireConfiguration().clientMetadata().client_id;
      const mismatch = refreshedIdTokenMismatch(
        record.tokens.idToken,
        { sub: record.sub, issuer, clientId },
        idClaims,
      );
      if (mismatch) return { mismatch };
    }
    return {
      tokens: tokenSetFrom(response, record.tokens),
      ...accessTokenTimes(response.access_token, response.expires_in, Date.now()),
      claims: idClaims ? { ...record.claims, ...userClaims(idClaims, undefined) } : record.claims,
    };
  }
}
