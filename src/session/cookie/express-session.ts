import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import type { GatewayConfig } from '../../config/types.js';
import type { CookieRules } from './cookie-rules.js';
import type { SealedSessionStore } from './express-store.js';

/** express-session wired for the gateway: sessions are created only at login, never touched on read. */
export function sessionMiddleware(
  /** Only the signing secrets: the cookie's name and attributes come from `cookies`. */
  settings: Pick<GatewayConfig['session'], 'secrets'>,
  store: SealedSessionStore,
  cookies: CookieRules,
): RequestHandler {
  return session({
    name: cookies.sessionCookieName,
    secret: settings.secrets,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    // unset stays 'keep': with 'destroy', a request whose session could not be loaded (store down)
    // would delete that session at response end.
    cookie: cookies.sessionCookieOptions,
  });
}

// Promise forms of the callback API. Saves are awaited explicitly before answering: express-session's
// automatic save runs after the headers are sent, where a failure could no longer become a 503.
export function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((err: unknown) => (err ? reject(err) : resolve())),
  );
}
export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.save((err: unknown) => (err ? reject(err) : resolve())),
  );
}
export function destroySession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.destroy((err: unknown) => (err ? reject(err) : resolve())),
  );
}
