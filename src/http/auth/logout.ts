import type { Request, Response } from 'express';
import { buildLogoutUrl, revokeRefreshToken } from '../../oidc/end-session.js';
import { readSessionId } from '../../session/cookie/session-id.js';
import { hasCsrfHeader } from '../anti-forgery.js';
import type { AuthDeps } from './deps.js';

/**
 * POST /auth/logout: take the session out of the store in one atomic read-and-delete, revoke the
 * refresh token the deleted record held, clear the cookie, then tell the SPA where to end the IdP
 * session (JSON) or send a form post there (303).
 *
 * No earlier read: a refresh on another instance may rotate the refresh token at any moment, and only
 * the record deleted is certain to hold the last one stored (a later rotation is refused by its
 * compare-and-set, because the key is gone).
 */
export function logout(deps: AuthDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    res.setHeader('Cache-Control', 'no-store');
    const sid = readSessionId(req, deps.cookies.sessionCookieName, deps.config.session.secrets);
    // Store first: if it cannot be reached this throws 503 and the user is still signed in, as they see.
    // The terminator takes the record (GETDEL), closes its sockets, unindexes and counts it.
    const record = sid === undefined ? null : await deps.terminator.end(sid, 'rp');
    deps.cookies.clearSessionCookie(res);

    let logoutUrl = '/';
    if (record) {
      await revokeRefreshToken(deps.idp, record.tokens.refreshToken, deps.logger, record.sub);
      logoutUrl = buildLogoutUrl(deps.idp, record.tokens.idToken, deps.config.publicUrl);
      deps.logger.info({ sub: record.sub, idpSid: record.idpSid }, 'signed out');
    }
    if (hasCsrfHeader(req)) res.status(200).json({ logoutUrl });
    else res.redirect(303, logoutUrl);
  };
}
