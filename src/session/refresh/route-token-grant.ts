import type { RouteExchange } from '../../config/types.js';
import type { SessionRecord } from '../records/record.js';
import type { RouteToken } from '../records/route-token.js';
import type { RefreshableRecord } from './grant.js';

/**
 * The answer of one route-token request at the IdP:
 * - `tokens`: the route's token, plus the session's refresh token when an audience grant rotated it;
 * - `terminal`: the session's refresh token is dead (an audience grant got invalid_grant): the session ends;
 * - `refused`: the IdP will not issue this token for this session (invalid_target, invalid_scope, an
 *   exchange's invalid_grant…): 403 forbidden, the session stays. `idp` is the IdP's reason, for the log;
 * - `transient`: nothing changed (IdP unreachable, or `misconfigured`: the IdP refused the gateway's
 *   client): 503, the session stays.
 */
export type RouteGrantResult =
  | { kind: 'tokens'; token: RouteToken; refreshToken?: string | undefined }
  | { kind: 'terminal'; reason: string; details?: Record<string, unknown> }
  | { kind: 'refused'; error: string | undefined; details: Record<string, unknown> }
  | { kind: 'transient'; cause: unknown; misconfigured: boolean; details: Record<string, unknown> };

/** The IdP side of route tokens (oidc/audience-grant.ts, oidc/token-exchange-grant.ts). Never throws for an IdP failure. */
export interface RouteTokenGrant {
  /** RFC 8707: `grant_type=refresh_token` with `resource=audience` (and `scope` when scopes are given). */
  audience(record: RefreshableRecord, audience: string, scopes: readonly string[]): Promise<RouteGrantResult>;
  /** RFC 8693: the record's access token exchanged for one for `exchange.audience`. */
  exchange(record: SessionRecord, exchange: RouteExchange): Promise<RouteGrantResult>;
}
