import * as client from 'openid-client';
import { describeError, type Logger } from '../observability/logger.js';

/**
 * RP-initiated logout URL: the IdP's end_session_endpoint with id_token_hint, client_id and
 * post_logout_redirect_uri, or "/" when the IdP has none (or we hold no ID token).
 */
export function buildLogoutUrl(
  configuration: client.Configuration | undefined,
  idToken: string | undefined,
  publicUrl: string,
): string {
  if (!configuration?.serverMetadata().end_session_endpoint || idToken === undefined) return '/';
  return client
    .buildEndSessionUrl(configuration, { id_token_hint: idToken, post_logout_redirect_uri: `${publicUrl}/` })
    .toString();
}

/** RFC 7009 revocation of the refresh token, when the IdP supports it. Never fails the logout. */
export async function revokeRefreshToken(
  configuration: client.Configuration | undefined,
  refreshToken: string | undefined,
  logger: Logger,
  sub: string,
): Promise<void> {
  if (!configuration?.serverMetadata().revocation_endpoint || refreshToken === undefined) return;
  try {
    await client.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' });
    logger.info({ sub }, 'refresh token revoked');
  } catch (err) {
    logger.warn({ sub, err: describeError(err) }, 'refresh token revocation failed');
  }
}
