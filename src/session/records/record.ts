/**
 * The session record: what the gateway knows about one signed-in browser. It is read and written only
 * through session/records/session-records.ts (express-session too, via session/cookie/express-store.ts), and stored
 * sealed (session/records/sealed-record.ts).
 */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
  tokenType: string;
  scope: string | undefined;
}

export interface SessionRecord {
  /** The user's subject at the IdP. */
  sub: string;
  /** The IdP's session id (`sid` claim), for back-channel logout. */
  idpSid: string | undefined;
  /** ID token claims merged with UserInfo, protocol claims removed. */
  claims: Record<string, unknown>;
  tokens: TokenSet;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  accessTokenIssuedAt: number;
  createdAt: number;
  absoluteExpiresAt: number;
  idleExpiresAt: number;
  /** OIDC_DPOP: the session's ES256 key (its private scalar, see dpop-key.ts); its tokens are bound to it. */
  dpopKey?: string;
}

declare module 'express-session' {
  interface SessionData {
    bff: SessionRecord;
  }
}

export interface Lifetimes {
  idleTimeoutMs: number;
  maxAgeMs: number;
}

/** Claims that describe the token, not the user; never shown to the SPA. */
const PROTOCOL_CLAIMS = new Set([
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'azp',
  'sid',
]);

/** Claims about the sign-in itself, never taken from UserInfo. */
const SIGN_IN_CLAIMS = ['sub', 'acr', 'amr', 'auth_time'] as const;

export function userClaims(
  idTokenClaims: Record<string, unknown>,
  userInfo: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...idTokenClaims, ...(userInfo ?? {}) };
  // The ID token's subject is authoritative (UserInfo's sub was checked to match anyway), and so is how
  // the user signed in: route policies trust acr, amr and auth_time only from the verified ID token.
  for (const claim of SIGN_IN_CLAIMS) {
    if (claim in idTokenClaims) merged[claim] = idTokenClaims[claim];
    else delete merged[claim];
  }
  for (const claim of PROTOCOL_CLAIMS) delete merged[claim];
  return merged;
}

export function newSessionTimes(
  now: number,
  lifetimes: Lifetimes,
): Pick<SessionRecord, 'createdAt' | 'absoluteExpiresAt' | 'idleExpiresAt'> {
  return {
    createdAt: now,
    absoluteExpiresAt: now + lifetimes.maxAgeMs,
    idleExpiresAt: now + lifetimes.idleTimeoutMs,
  };
}

/** When the store should forget the record: the earlier of its idle and absolute ends. */
export function storeExpiry(record: SessionRecord): number {
  return Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
}

export function isLive(record: SessionRecord, now: number): boolean {
  return storeExpiry(record) > now;
}

/**
 * Sliding the idle deadline costs a write, so it slides lazily: only once a tenth of the idle timeout
 * has passed since the last slide. A session may therefore end up to 10% of the idle timeout early.
 */
export function shouldSlide(record: SessionRecord, now: number, lifetimes: Lifetimes): boolean {
  const lastSlide = record.idleExpiresAt - lifetimes.idleTimeoutMs;
  return now - lastSlide >= lifetimes.idleTimeoutMs / 10 && record.idleExpiresAt < record.absoluteExpiresAt;
}

/**
 * An access token is refreshed when it expires within the skew, the skew capped at half the token's
 * lifetime (a 20 s token with a 30 s skew is refreshed after 10 s, not at once).
 */
export function needsRefresh(
  times: { accessTokenExpiresAt: number; accessTokenIssuedAt: number },
  now: number,
  skewMs: number,
): boolean {
  const lifetime = times.accessTokenExpiresAt - times.accessTokenIssuedAt;
  return times.accessTokenExpiresAt - now <= Math.min(skewMs, Math.max(lifetime, 0) / 2);
}

export function slid(record: SessionRecord, now: number, lifetimes: Lifetimes): SessionRecord {
  return { ...record, idleExpiresAt: now + lifetimes.idleTimeoutMs };
}
