import type { IncomingMessage } from 'node:http';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { UnauthenticatedError } from '../errors.js';
import type { ClientCredentials } from '../oidc/client-credentials.js';
import { shouldSlide, slid } from '../session/records/record.js';
import type { SessionRefresher } from '../session/refresh/session-refresher.js';
import { routeTokenId, type RouteTokens } from '../session/refresh/route-tokens.js';
import { readSessionId } from '../session/cookie/session-id.js';
import type { LoadedSession, SessionRecords } from '../session/records/session-records.js';

type SessionSettings = Pick<
  GatewayConfig['session'],
  'cookieName' | 'secrets' | 'idleTimeoutMs' | 'maxAgeMs'
>;

/**
 * Session and token decisions for a proxied request, shared by HTTP requests and WebSocket upgrades:
 * request -> session -> fresh token -> the token the upstream gets.
 */
export class UpstreamAccess {
  constructor(
    /** The session cookie (name, signing secrets) and the lifetimes the idle slide follows. */
    private readonly settings: SessionSettings,
    private readonly records: SessionRecords,
    private readonly refresher: Pick<SessionRefresher, 'fresh'>,
    private readonly clientCredentials: ClientCredentials,
    /** The tokens of `audience` and `exchange` routes. */
    private readonly routeTokens?: RouteTokens,
  ) {}

  /**
   * The route token read together with a request's session (one MGET), by the request's own session
   * object (a copy per request, so concurrent requests never see each other's read).
   */
  private readonly readAlong = new WeakMap<LoadedSession, Buffer | null>();

  /**
   * The session of user and optional routes: one store read and no write, except that the idle
   * deadline slides lazily (session/records/record.ts) with a compare-and-set that yields to any concurrent write.
   * 401 on a user route without one.
   */
  async session(req: IncomingMessage, route: RouteConfig): Promise<LoadedSession | undefined> {
    if (route.token !== 'user' && route.token !== 'optional') return undefined;
    const { cookieName, secrets } = this.settings;
    const sid = readSessionId(req, cookieName, secrets);
    const tokenId = this.routeTokens && routeTokenId(route);
    let loaded: LoadedSession | null = null;
    let along: Buffer | null | undefined;
    if (sid !== undefined && tokenId !== undefined) {
      // A route with its own token: the session and that token in one store command.
      const read = await this.records.readWith(sid, this.routeTokens!.key(sid, tokenId));
      loaded = read.loaded && { ...read.loaded };
      along = read.other;
    } else if (sid !== undefined) {
      loaded = await this.records.read(sid);
    }
    if (!loaded) {
      if (route.token === 'user') throw new UnauthenticatedError();
      return undefined;
    }
    const now = Date.now();
    const current = shouldSlide(loaded.record, now, this.settings)
      ? ((await this.records.replace(loaded, slid(loaded.record, now, this.settings))) ?? loaded)
      : loaded;
    if (along !== undefined) this.readAlong.set(current, along);
    return current;
  }

  fresh(session: LoadedSession): Promise<LoadedSession> {
    return this.refresher.fresh(session);
  }

  /** The bearer token for the upstream, or undefined for none. */
  async token(route: RouteConfig, session: LoadedSession | undefined): Promise<string | undefined> {
    if (route.token === 'client') return this.clientCredentials.token(route.scopes);
    if (session === undefined) return undefined;
    if (this.routeTokens && routeTokenId(route) !== undefined) {
      // After a refresh of the session (another object) the route token is read on its own.
      return (await this.routeTokens.token(session, route, this.readAlong.get(session))).accessToken;
    }
    return session.record.tokens.accessToken;
  }
}
