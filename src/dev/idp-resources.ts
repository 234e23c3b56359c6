/**
 * Resource indicators (RFC 8707) of the demo's and the tests' IdP: one JWT access-token audience per
 * API. The default API (`apiAudience`) is what a token request without `resource` gets; the other
 * resources are issued only when asked for, by a refresh with `resource=<indicator>` (an API's own
 * token) or by the token-exchange grant (idp-exchange.ts).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { API_SCOPES, accountFor } from './settings.js';

/** What oidc-provider needs to mint a JWT access token for one resource server. */
export interface ResourceServerInfo {
  scope: string;
  audience: string;
  accessTokenTTL: number;
  accessTokenFormat: 'jwt';
  jwt: { sign: { alg: 'RS256' } };
}

export interface ResourceSetup {
  /** The default API: a token request without `resource` gets a token for it. */
  apiAudience: string | undefined;
  /** Every known indicator, the default API's included. */
  indicators: ReadonlySet<string>;
  accessTokenTtl: number;
}

export function resourceSetup(
  apiAudience: string | undefined,
  resources: readonly string[] | undefined,
  accessTokenTtl: number,
): ResourceSetup {
  const indicators = new Set<string>(resources ?? []);
  if (apiAudience !== undefined) indicators.add(apiAudience);
  return { apiAudience, indicators, accessTokenTtl };
}

/** The API scopes `accountId` may have, or all of them when the account is not known yet. */
function scopesFor(accountId: string | undefined): string {
  return accountId === undefined ? API_SCOPES.join(' ') : accountFor(accountId).apiScopes.join(' ');
}

/** One resource server's token settings; unknown indicators are refused with invalid_target. */
export function resourceServerInfo(
  setup: ResourceSetup,
  indicator: string,
  accountId: string | undefined,
): ResourceServerInfo {
  if (!setup.indicators.has(indicator)) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
  return {
    scope: scopesFor(accountId),
    audience: indicator,
    accessTokenTTL: setup.accessTokenTtl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  };
}

/** oidc-provider's `features.resourceIndicators`. */
export function resourceIndicatorsFeature(setup: ResourceSetup): Record<string, unknown> {
  if (setup.indicators.size === 0) return { enabled: false };
  const { apiAudience } = setup;
  return {
    enabled: true,
    // A request without `resource` is for the default API; a refresh without one, whose grant holds
    // several resources, too (when the default API is among them).
    defaultResource: async (_ctx: KoaContextWithOIDC, _client: unknown, oneOf?: string[]) => {
      if (oneOf === undefined) return apiAudience;
      if (apiAudience !== undefined && oneOf.includes(apiAudience)) return apiAudience;
      return oneOf[0];
    },
    // Without a default API the session's own token stays opaque (UserInfo accepts it).
    useGrantedResource: async () => apiAudience !== undefined,
    getResourceServerInfo: async (ctx: KoaContextWithOIDC, indicator: string) => {
      // At the authorization endpoint the signed-in user is known: offer consent only for the API
      // scopes that user may have (bob: api:read). The grant then caps every token.
      const accountId = (ctx.oidc as { session?: { accountId?: string } }).session?.accountId;
      return resourceServerInfo(setup, indicator, accountId);
    },
  };
}

/**
 * An authorization request that names resources gets the default API added: the session's own token
 * (a token request without `resource`) stays a token for the default API, and the named resources
 * are granted for later refreshes with `resource`. Returns the new request URL, or undefined.
 */
export function withDefaultResource(url: string, setup: ResourceSetup): string | undefined {
  if (setup.apiAudience === undefined) return undefined;
  const u = new URL(url, 'http://idp.invalid');
  if (u.pathname !== '/auth') return undefined;
  const named = u.searchParams.getAll('resource');
  if (named.length === 0 || named.includes(setup.apiAudience)) return undefined;
  u.searchParams.append('resource', setup.apiAudience);
  return `${u.pathname}${u.search}`;
}
