import type { Request, Response } from 'express';
import { buildAuthorizationRequest } from '../../oidc/authorization-request.js';
import { preferHtmlErrors } from '../error-handler.js';
import { safeReturnTo } from '../return-to.js';
import type { AuthDeps } from './deps.js';
import { requireSecureRequest } from './secure-request.js';

/** GET /auth/login?returnTo=/path: a new pending login keyed by its state, then 302 to the IdP. */
export function login(deps: AuthDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    preferHtmlErrors(res);
    requireSecureRequest(req, deps.config.publicUrl, deps.logger);
    const configuration = deps.idp.config; // 503 idp_unavailable until discovery succeeded
    // Before anything is stored: a refused start writes no pending login (see rate-limit.ts).
    await deps.loginRateLimit.check('login', req.ip ?? 'unknown');

    const returnTo = safeReturnTo(req.query.returnTo, deps.config.publicUrl);
    const request = await buildAuthorizationRequest(configuration, deps.config.oidc, deps.config.redirectUri);
    const loginId = deps.cookies.issueLoginId(req, res);
    await deps.pendingLogins.add(loginId, request.state, {
      nonce: request.nonce,
      codeVerifier: request.codeVerifier,
      returnTo,
      createdAt: deps.now(),
    });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, request.url.toString());
  };
}
