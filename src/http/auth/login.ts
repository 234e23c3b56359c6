import type { Request, Response } from 'express';
import { buildAuthorizationRequest, routeResources } from '../../oidc/authorization-request.js';
import { parseLoginOptions } from '../../oidc/login-options.js';
import { preferHtmlErrors } from '../error-handler.js';
import { safeReturnTo } from '../return-to.js';
import type { AuthDeps } from './deps.js';
import { requireSecureRequest } from './secure-request.js';

/**
 * GET /auth/login?returnTo=/path[&prompt=…&acr_values=…&max_age=…&login_hint=…&ui_locales=…]: a new
 * pending login keyed by its state (with the sign-in options the callback checks), then 302 to the
 * IdP (directly, or by pushed authorization request).
 */
export function login(deps: AuthDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    preferHtmlErrors(res);
    requireSecureRequest(req, deps.config.publicUrl, deps.logger);
    void deps.idp.requireConfiguration(); // 503 idp_unavailable until discovery succeeded, before anything is counted
    // Before anything is stored: a refused start writes no pending login (see rate-limit.ts).
    await deps.loginRateLimit.check('login', req.ip ?? 'unknown');

    const returnTo = safeReturnTo(req.query.returnTo, deps.config.publicUrl);
    const options = parseLoginOptions(req.query as Record<string, unknown>);
    const request = await buildAuthorizationRequest(
      deps.idp,
      deps.config.oidc,
      deps.config.redirectUri,
      options,
      deps.logger,
      routeResources(deps.config.routes),
    );
    const loginId = deps.cookies.issueLoginId(req, res);
    await deps.pendingLogins.add(loginId, request.state, {
      nonce: request.nonce,
      codeVerifier: request.codeVerifier,
      returnTo,
      createdAt: deps.now(),
      options: { ...options, maxAge: request.maxAge },
    });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, request.url.toString());
  };
}
