import * as client from 'openid-client';
import type { RouteExchange } from '../config/types.js';
import type { SessionRecord } from '../session/records/record.js';
import type { RouteGrantResult } from '../session/refresh/route-token-grant.js';
import type { DpopOptions } from './dpop.js';
import type { IdentityProvider } from './provider.js';
import { routeGrantFailure, routeTokenFrom } from './route-grant-result.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * RFC 8693 §2.1: the session's (fresh) access token exchanged at the token endpoint for an access
 * token for `exchange.audience`. invalid_grant refuses this exchange only (route-tokens.ts then checks
 * the session's own refresh before answering 403 or 401). A refresh token in the answer is not kept:
 * the exchanged token is renewed by exchanging again.
 */
export async function tokenExchangeGrant(
  idp: IdentityProvider,
  record: SessionRecord,
  exchange: RouteExchange,
  options: DpopOptions = {},
): Promise<RouteGrantResult> {
  const params: Record<string, string> = {
    subject_token: record.tokens.accessToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    audience: exchange.audience,
  };
  if (exchange.scope !== undefined) params.scope = exchange.scope;
  try {
    const response = await idp.call('token_exchange', () =>
      client.genericGrantRequest(idp.requireConfiguration(), TOKEN_EXCHANGE_GRANT, params, options),
    );
    const result = routeTokenFrom(response);
    return result.kind === 'tokens' ? { ...result, refreshToken: undefined } : result;
  } catch (err) {
    return routeGrantFailure(err, 'refused');
  }
}
