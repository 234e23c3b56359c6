import type { Request, Response } from 'express';
import { InvalidLogoutToken, type LogoutTokenValidator } from '../../oidc/logout-token.js';
import { GatewayError } from '../../errors.js';
import type { AuthDeps } from './deps.js';

function invalidRequest(message: string): GatewayError {
  return new GatewayError(400, 'invalid_request', message);
}

/**
 * POST /auth/backchannel-logout (OpenID Connect Back-Channel Logout 1.0): the IdP says a session ended;
 * every matching gateway session is deleted and its WebSockets closed.
 */
export function backchannelLogout(deps: AuthDeps, validator: LogoutTokenValidator) {
  return async (req: Request, res: Response): Promise<void> => {
    res.setHeader('Cache-Control', 'no-store');
    const token = (req.body as Record<string, unknown> | undefined)?.logout_token;
    if (typeof token !== 'string' || token === '') throw invalidRequest('Send the form field logout_token.');
    let claims;
    try {
      claims = await validator.validate(token);
    } catch (err) {
      if (!(err instanceof InvalidLogoutToken)) throw err;
      deps.logger.warn({ reason: err.message }, 'back-channel logout refused');
      throw invalidRequest('The logout token is invalid.');
    }
    const jtiKey = deps.keys.logoutTokenJti(deps.config.oidc.issuer, claims.jti);
    if (await deps.kv.exists(jtiKey)) {
      deps.logger.warn({ sub: claims.sub, idpSid: claims.sid }, 'back-channel logout refused: jti replayed');
      throw invalidRequest('The logout token was already used.');
    }
    // Ending sessions is idempotent, so the jti is recorded only after it succeeded: when the store
    // fails here (503), the IdP's retry of the same token must still work. Two concurrent deliveries
    // may both end the same sessions; that is harmless.
    // The logout token names `sid`, `sub` or both (logout-token.ts refuses neither): `sid` is the narrower.
    const match = claims.sid !== undefined ? { idpSid: claims.sid } : { sub: claims.sub! };
    const ended = await deps.terminator.endAll(match, 'backchannel');
    await deps.kv.setIfAbsent(jtiKey, '1', claims.rememberJtiMs);
    deps.logger.info({ sub: claims.sub, idpSid: claims.sid, sessions: ended }, 'back-channel logout');
    res.status(200).end();
  };
}
