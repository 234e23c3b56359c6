import { Router } from 'express';
import type { RequestHandler } from 'express';
import { requireSameOrigin } from '../anti-forgery.js';
import { callback } from './callback.js';
import type { AuthDeps } from './deps.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { sessionInfo } from './session-info.js';

/** The /auth pipeline: each endpoint is the list of its steps. */
export function authRoutes(deps: AuthDeps, session: RequestHandler): Router {
  const router = Router();
  router.get('/auth/login', login(deps));
  router.get('/auth/callback', session, callback(deps));
  router.get('/auth/session', session, sessionInfo());
  router.post('/auth/logout', requireSameOrigin(deps.config.publicUrl), session, logout(deps));
  return router;
}
