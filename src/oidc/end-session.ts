import * as client from 'openid-client';
import { describeError, type Logger } from '../observability/logger.js';
import type { IdentityProvider } from './provider.js';

/** Where the IdP sends the browser after RP-initiated logout: the IdP must know it (main logs it at start). */
export function postLogoutRedirectUri(publicUrl: string): string {
  return `${publicUrl}/`;
}

/**
 * RP-initiated logout URL: the IdP's end_session_endpoint with id_token_hint, client_id and
 * post_logout_redirect_uri and a random state, or "/" when the IdP has none (or we hold no ID token).
 */
export function buildLogoutUrl(
  idp: IdentityProvider,
  idToken: string | undefined,
  publicUrl: string,
): string {
  if (!idp.ready || !idp.metadata.end_session_endpoint || idToken === undefined) return '/';
  return (
    client
      // A random state: some IdPs (Glewlwyd) return to the application only when one is present.
      .buildEndSessionUrl(idp.requireConfiguration(), {
        id_token_hint: idToken,
        post_logout_redirect_uri: postLogoutRedirectUri(publicUrl),
        state: client.randomState(),
      })
      .toString()
  );
}

/** RFC 7009 revocation of a refresh token, when the IdP supports it. Never fails the caller. */
export async function revokeRefreshToken(
  idp: IdentityProvider,
  refreshToken: string | undefined,
  logger: Logger,
  sub: string,
): Promise<void> {
  if (!idp.ready || !idp.metadata.revocation_endpoint || refreshToken === undefined) return;
  try {
    await idp.call('revocation', () =>
      client.tokenRevocation(idp.requireConfiguration(), refreshToken, { token_type_hint: 'refresh_token' }),
    );
    logger.info({ sub }, 'refresh token revoked');
  } catch (err) {
    logger.warn({ sub, err: describeError(err) }, 'refresh token revocation failed');
  }
}
