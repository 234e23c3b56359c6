import * as client from 'openid-client';
import type { RefreshableRecord } from '../session/refresh/grant.js';
import type { RouteGrantResult } from '../session/refresh/route-token-grant.js';
import type { DpopOptions } from './dpop.js';
import type { IdentityProvider } from './provider.js';
import { routeGrantFailure, routeTokenFrom } from './route-grant-result.js';

/**
 * RFC 8707 §2.2: the session's refresh token spent for an access token for one resource
 * (`resource=<audience>`, and `scope` to down-scope when the route names scopes). A rotated refresh
 * token in the answer is the session's from now on (route-tokens.ts stores it); an ID token in it is
 * not used (the session's claims come from its own refreshes). invalid_grant: the refresh token is dead.
 */
export async function audienceGrant(
  idp: IdentityProvider,
  record: RefreshableRecord,
  audience: string,
  scopes: readonly string[],
  options: DpopOptions = {},
): Promise<RouteGrantResult> {
  const params: Record<string, string> = { resource: audience };
  if (scopes.length > 0) params.scope = scopes.join(' ');
  try {
    const response = await idp.call('audience_grant', () =>
      client.refreshTokenGrant(idp.requireConfiguration(), record.tokens.refreshToken, params, options),
    );
    return routeTokenFrom(response);
  } catch (err) {
    return routeGrantFailure(err, 'terminal');
  }
}
