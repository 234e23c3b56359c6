import * as client from 'openid-client';
import { describeError } from '../observability/logger.js';
import type { RouteGrantResult } from '../session/refresh/route-token-grant.js';
import { describeIdpFailure } from './idp-errors.js';
import { accessTokenTimes } from './token-response.js';

/**
 * What audience-grant.ts and token-exchange-grant.ts share: a token response as a route token, and a
 * failed call classified. `invalidGrant` says what the grant's invalid_grant means: for an audience
 * grant the session's refresh token is dead (terminal); for an exchange only this exchange was refused.
 */
export function routeTokenFrom(response: client.TokenEndpointResponse): RouteGrantResult {
  return {
    kind: 'tokens',
    token: {
      accessToken: response.access_token,
      tokenType: response.token_type ?? 'bearer',
      ...accessTokenTimes(response.access_token, response.expires_in, Date.now()),
    },
    refreshToken: response.refresh_token,
  };
}

/**
 * Errors that say the gateway's client itself is not set up for this grant (RFC 6749 §5.2): every
 * session would get the same answer, so it is logged as an error and answered 503 until fixed.
 */
const MISCONFIGURED = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type']);

/**
 * A refused grant: any other 4xx OAuth error (invalid_target, invalid_scope, access_denied,
 * invalid_request…) refuses this token only (403, the session stays), except the audience grant's
 * invalid_grant: the session's refresh token is dead (the session ends). A 401 is about the client,
 * and no answer, 429 or 5xx is transient (503).
 */
export async function routeGrantFailure(
  err: unknown,
  invalidGrant: 'terminal' | 'refused',
): Promise<RouteGrantResult> {
  const failure = await describeIdpFailure(err);
  const details = { idp: failure, err: describeError(err) };
  const { status, error } = failure;
  const refusal = status !== undefined && status >= 400 && status < 500 && status !== 401 && status !== 429;
  if (refusal && error !== undefined && !MISCONFIGURED.has(error)) {
    if (error === 'invalid_grant' && invalidGrant === 'terminal') {
      return { kind: 'terminal', reason: 'the IdP refused the refresh token', details };
    }
    return { kind: 'refused', error, details };
  }
  const misconfigured = status !== undefined && status >= 400 && status < 500 && status !== 429;
  return { kind: 'transient', cause: err, misconfigured, details };
}
