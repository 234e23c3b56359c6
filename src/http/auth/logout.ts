import type { Request, Response } from 'express';
import { buildLogoutUrl, revokeRefreshToken } from '../../oidc/end-session.js';
import { destroySession } from '../../session/express-session.js';
import { hasCsrfHeader } from '../anti-forgery.js';
import type { AuthDeps } from './deps.js';

/**
 * POST /auth/logout: delete the session from the store, revoke the refresh token, clear the cookie,
 * then tell the SPA where to end the IdP session (JSON) or send a form post there (303).
 */
export function logout(deps: AuthDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    res.setHeader('Cache-Control', 'no-store');
    const record = req.session?.bff;
    // Store first: if it cannot be reached this throws 503 and the user is still signed in, as they see.
    if (record) {
      const sid = req.sessionID;
      await destroySession(req);
      deps.onSessionEnded(sid, record);
      deps.metrics.logouts.inc({ kind: 'rp' });
    }
    deps.cookies.clearSessionCookie(res);

    let logoutUrl = '/';
    if (record) {
      await revokeRefreshToken(deps.idp, record.tokens.refreshToken, deps.logger, record.sub);
      logoutUrl = buildLogoutUrl(deps.idp, record.tokens.idToken, deps.config.publicUrl);
      deps.logger.info({ sub: record.sub, sid: record.idpSid }, 'signed out');
    }
    if (hasCsrfHeader(req)) res.status(200).json({ logoutUrl });
    else res.redirect(303, logoutUrl);
  };
}
