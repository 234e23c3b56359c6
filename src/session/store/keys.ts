import { hashId } from '../vault.js';

/**
 * Every key the gateway writes. Keys that are read or written together share a Redis Cluster hash tag
 * (`{...}`), and no key contains a browser's id in the clear, only its hash.
 */
export class StoreKeys {
  constructor(readonly prefix: string) {}

  sessionHash(sessionId: string): string {
    return hashId(sessionId);
  }
  /** A stored session (session/records/sealed-record.ts). */
  session(sessionId: string): string {
    return this.sessionByHash(hashId(sessionId));
  }

  /** The cross-instance refresh lock of one session (same hash slot as the session). */
  refreshLock(sessionId: string): string {
    return `${this.prefix}{${hashId(sessionId)}}:refresh-lock`;
  }
  /** The result of a refresh, kept briefly under a hash of the refresh token it spent. */
  refreshGrace(sessionId: string, spentRefreshToken: string): string {
    return `${this.prefix}{${hashId(sessionId)}}:refresh-grace:${hashId(spentRefreshToken)}`;
  }

  /**
   * A route's own token for one session (session/records/route-token.ts): same hash slot as the
   * session, so both are read with one MGET. `tokenId` names the audience or exchange (route-tokens.ts).
   */
  routeToken(sessionId: string, tokenId: string): string {
    return this.routeTokenByHash(hashId(sessionId), tokenId);
  }
  routeTokenByHash(sessionIdHash: string, tokenId: string): string {
    return `${this.prefix}{${sessionIdHash}}:route-token:${hashId(tokenId)}`;
  }
  /** The cross-instance lock of a token exchange for one session and audience (an audience grant takes refreshLock). */
  routeTokenLock(sessionId: string, tokenId: string): string {
    return `${this.prefix}{${hashId(sessionId)}}:route-token-lock:${hashId(tokenId)}`;
  }

  /** Pending logins of one browser (its login cookie), one key per `state` plus an index for eviction. */
  pendingLogin(loginId: string, state: string): string {
    return `${this.prefix}{${hashId(loginId)}}:login:${hashId(state)}`;
  }
  pendingLoginIndex(loginId: string): string {
    return `${this.prefix}{${hashId(loginId)}}:logins`;
  }

  /** Back-channel logout indexes (hashes): session hashes by the IdP's session id and by subject. */
  sessionsByIdpSid(issuer: string, idpSid: string): string {
    return `${this.prefix}bcl:by-sid:${hashId(`${issuer} ${idpSid}`)}`;
  }
  sessionsBySub(issuer: string, sub: string): string {
    return `${this.prefix}bcl:by-sub:${hashId(`${issuer} ${sub}`)}`;
  }
  /**
   * The same indexes as Redis sets, written by earlier gateway versions; still read by back-channel logout
   * until they expire (at most SESSION_MAX_AGE after the upgrade). New names, because a hash cannot be
   * written to a key that holds a set.
   */
  legacySessionsByIdpSid(issuer: string, idpSid: string): string {
    return `${this.prefix}bcl:sid:${hashId(`${issuer} ${idpSid}`)}`;
  }
  legacySessionsBySub(issuer: string, sub: string): string {
    return `${this.prefix}bcl:sub:${hashId(`${issuer} ${sub}`)}`;
  }
  /** The session key for a session known only by the hash of its id (from an index). */
  sessionByHash(sessionIdHash: string): string {
    return `${this.prefix}{${sessionIdHash}}:session`;
  }
  /** A logout token's `jti`, remembered to refuse its replay. */
  logoutTokenJti(issuer: string, jti: string): string {
    return `${this.prefix}bcl:jti:${hashId(`${issuer} ${jti}`)}`;
  }

  /** One client IP's requests to /auth/login or /auth/callback in the window (http/auth/rate-limit.ts). */
  rateLimit(endpoint: 'login' | 'callback', client: string): string {
    return `${this.prefix}ratelimit:${endpoint}:${hashId(client)}`;
  }
  /** The same for all clients together: the cap that bounds how fast the store can grow. */
  rateLimitAll(endpoint: 'login' | 'callback'): string {
    return `${this.prefix}ratelimit:${endpoint}-all`;
  }
}
