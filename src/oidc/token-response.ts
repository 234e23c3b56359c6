import type * as client from 'openid-client';
import type { TokenSet } from '../session/records/record.js';

/** Used only when a token response has no expires_in and the access token is not a JWT with `exp`. */
export const DEFAULT_ACCESS_TOKEN_LIFETIME_MS = 5 * 60_000;

/** When an access token was issued and expires (epoch ms): expires_in, else the JWT `exp`, else the default. */
export function accessTokenTimes(
  accessToken: string,
  expiresIn: number | undefined,
  now: number,
): { accessTokenIssuedAt: number; accessTokenExpiresAt: number } {
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn)) {
    return { accessTokenIssuedAt: now, accessTokenExpiresAt: now + expiresIn * 1000 };
  }
  const exp = jwtExp(accessToken);
  return {
    accessTokenIssuedAt: now,
    accessTokenExpiresAt: exp !== undefined ? exp * 1000 : now + DEFAULT_ACCESS_TOKEN_LIFETIME_MS,
  };
}

function jwtExp(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/** The tokens of a token-endpoint response; a refresh response may omit the refresh or ID token (keep the old). */
export function tokenSetFrom(response: client.TokenEndpointResponse, previous?: TokenSet): TokenSet {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? previous?.refreshToken,
    idToken: response.id_token ?? previous?.idToken,
    tokenType: response.token_type ?? previous?.tokenType ?? 'bearer',
    scope: response.scope ?? previous?.scope,
  };
}
