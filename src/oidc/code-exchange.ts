import * as client from 'openid-client';
import { IdpUnavailableError, LoginError } from '../http/errors.js';
import { describeError, type Logger } from '../observability/logger.js';
import type { TokenSet } from '../session/record.js';
import { isTransientIdpError } from './idp-errors.js';

export interface ExchangeResult {
  tokens: TokenSet;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  idTokenClaims: Record<string, unknown>;
  userInfo: Record<string, unknown> | undefined;
}

export interface ExchangeInput {
  /** The registered redirect URI; the callback's query is appended to it (see NOTES: a wrong origin breaks the exchange). */
  redirectUri: string;
  callbackQuery: string;
  expectedState: string;
  expectedNonce: string;
  codeVerifier: string;
  /** Used when the token response has no expires_in and the access token is not a JWT. */
  defaultAccessTokenLifetimeMs: number;
}

/**
 * Exchanges the code (with the PKCE verifier) and validates the ID token (issuer, audience, signature,
 * nonce, expiry: openid-client does all of it). Refusals become `exchange_failed`, an unreachable IdP
 * `idp_unavailable`.
 */
export async function exchangeCode(
  configuration: client.Configuration,
  input: ExchangeInput,
  logger: Logger,
): Promise<ExchangeResult> {
  const currentUrl = new URL(input.redirectUri);
  currentUrl.search = input.callbackQuery;
  let response: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    response = await client.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: input.codeVerifier,
      expectedState: input.expectedState,
      expectedNonce: input.expectedNonce,
      idTokenExpected: true,
    });
  } catch (err) {
    if (isTransientIdpError(err)) {
      logger.warn({ err: describeError(err) }, 'code exchange: IdP unreachable');
      throw new IdpUnavailableError(undefined, { cause: err });
    }
    logger.warn({ err: describeError(err) }, 'code exchange refused or ID token invalid');
    throw new LoginError(
      'exchange_failed',
      'The identity provider refused the sign-in, or its answer failed validation.',
      400,
      { cause: err },
    );
  }

  const idTokenClaims = { ...(response.claims() ?? {}) } as Record<string, unknown>;
  const tokens: TokenSet = {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    idToken: response.id_token,
    tokenType: response.token_type ?? 'bearer',
    scope: response.scope,
  };
  return {
    tokens,
    accessTokenExpiresAt: accessTokenExpiry(
      response.access_token,
      response.expires_in,
      Date.now(),
      input.defaultAccessTokenLifetimeMs,
    ),
    idTokenClaims,
    userInfo: await fetchUserInfo(configuration, response.access_token, String(idTokenClaims.sub), logger),
  };
}

/** UserInfo is a bonus: an IdP whose access tokens it will not accept (audience-bound JWTs) still signs in. */
async function fetchUserInfo(
  configuration: client.Configuration,
  accessToken: string,
  sub: string,
  logger: Logger,
): Promise<Record<string, unknown> | undefined> {
  if (!configuration.serverMetadata().userinfo_endpoint) return undefined;
  try {
    return { ...(await client.fetchUserInfo(configuration, accessToken, sub)) };
  } catch (err) {
    logger.warn({ sub, err: describeError(err) }, 'UserInfo request failed; using ID token claims only');
    return undefined;
  }
}

/** expires_in when given, else the JWT `exp`, else the configured default. */
export function accessTokenExpiry(
  accessToken: string,
  expiresIn: number | undefined,
  now: number,
  defaultLifetimeMs: number,
): number {
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn)) return now + expiresIn * 1000;
  const exp = jwtExp(accessToken);
  return exp !== undefined ? exp * 1000 : now + defaultLifetimeMs;
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
