import type { SessionRecord, TokenSet } from '../records/record.js';

/** What a refresh changes in a session record (also what the grace entry holds). */
export type RefreshedTokens = Pick<
  SessionRecord,
  'tokens' | 'accessTokenExpiresAt' | 'accessTokenIssuedAt' | 'claims'
>;

/** A record that holds a refresh token: the only kind a grant is asked to spend. */
export type RefreshableRecord = SessionRecord & { tokens: TokenSet & { refreshToken: string } };

export function hasRefreshToken(record: SessionRecord): record is RefreshableRecord {
  return record.tokens.refreshToken !== undefined;
}

/**
 * The answer of one spend of a refresh token:
 * - `tokens`: the refreshed tokens, checked to belong to this sign-in;
 * - `terminal`: this grant can never work again; the session ends (`reason` and `details` go into the
 *   "session ended by refresh" log line, `details` carrying no secret);
 * - `transient`: nothing changed for good (IdP unreachable, a refused client, an answer that failed
 *   validation); the session is kept. The grant has logged it already.
 */
export type GrantResult =
  | { kind: 'tokens'; refreshed: RefreshedTokens }
  | { kind: 'terminal'; reason: string; details?: Record<string, unknown> }
  | { kind: 'transient'; cause: unknown };

/**
 * The IdP side of a refresh, injected into the session layer (oidc/refresh-grant.ts implements it), so
 * that the session layer decides when a token is spent and the IdP layer only how.
 */
export interface RefreshGrant {
  /** Spends `record.tokens.refreshToken` once at the IdP. Never throws for an IdP failure. */
  refresh(record: RefreshableRecord): Promise<GrantResult>;
  /**
   * Lets go of a refresh token that will never be stored (revoked at the IdP when it can be). Never
   * throws; `sub` is for the log line.
   */
  discard(refreshToken: string | undefined, sub: string): Promise<void>;
}
