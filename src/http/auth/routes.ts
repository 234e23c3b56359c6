import express, { Router } from 'express';
import type { RequestHandler } from 'express';
import type { LogoutTokenValidator } from '../../oidc/logout-token.js';
import { backchannelLogout } from './backchannel-logout.js';
import { requireSameOrigin } from '../anti-forgery.js';
import { callback } from './callback.js';
import type { AuthDeps } from './deps.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { sessionInfo } from './session-info.js';

/** The /auth pipeline: each endpoint is the list of its steps. */
export function authRoutes(
  deps: AuthDeps,
  session: RequestHandler,
  logoutTokens: LogoutTokenValidator,
): Router {
  const router = Router();
  router.get('/auth/login', login(deps));
  router.get('/auth/callback', session, callback(deps));
  router.get('/auth/session', session, sessionInfo());
  // No express-session here: logout reads and deletes the record in one step (see logout.ts).
  router.post('/auth/logout', requireSameOrigin(deps.config.publicUrl), logout(deps));
  // Server to server from the IdP: no cookie, no anti-forgery; the signed logout token is the proof.
  router.post(
    '/auth/backchannel-logout',
    express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 10 }),
    backchannelLogout(deps, logoutTokens),
  );
  return router;
}
