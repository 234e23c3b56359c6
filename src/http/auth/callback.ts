import type { Request, Response } from 'express';
import { CodeExchangeRefused, exchangeCode } from '../../oidc/code-exchange.js';
import { LOGIN_LIFETIME_MS } from '../../session/pending-logins.js';
import { newSessionTimes, userClaims, type SessionRecord } from '../../session/records/record.js';
import { destroySession, regenerateSession, saveSession } from '../../session/cookie/express-session.js';
import { preferHtmlErrors } from '../error-handler.js';
import { GatewayError, LoginError } from '../../errors.js';
import { signedInPage } from '../pages.js';
import { withLoginError } from '../return-to.js';
import type { AuthDeps } from './deps.js';
import { checkResponseIssuer } from './response-issuer.js';
import { requireSecureRequest } from './secure-request.js';

/** OpenID Connect Core 3.1.2.6: what a `prompt=none` request gets when the user would have to act. */
const SILENT_LOGIN_ERRORS = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
]);

function queryString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * GET /auth/callback: state -> pending login (single use) -> code exchange + ID token validation ->
 * a NEW session id holding the tokens -> 200 page that navigates to returnTo.
 * Every failure is a 4xx page and leaves no session; an unreachable IdP is a 503 page.
 */
export function callback(deps: AuthDeps) {
  const complete = completeLogin(deps);
  return async (req: Request, res: Response): Promise<void> => {
    try {
      deps.metrics.logins.inc({ outcome: await complete(req, res) });
    } catch (err) {
      deps.metrics.logins.inc({ outcome: err instanceof GatewayError ? err.code : 'error' });
      throw err;
    }
  };
}

/** Resolves with the outcome to count: `ok`, or the IdP's code of a silent sign-in that returned to the app. */
function completeLogin(deps: AuthDeps) {
  return async (req: Request, res: Response): Promise<string> => {
    preferHtmlErrors(res);
    res.setHeader('Cache-Control', 'no-store');
    // Before the take: a refused callback leaves its pending login for the retry after Retry-After.
    await deps.loginRateLimit.check('callback', req.ip ?? 'unknown');
    const state = queryString(req, 'state');
    const loginId = deps.cookies.readLoginId(req);
    const pending =
      state !== undefined && loginId !== undefined
        ? await deps.pendingLogins.take(loginId, state)
        : undefined;
    // After the take (the state is single use whatever happens), before any IdP error or code exchange.
    requireSecureRequest(req, deps.config.publicUrl, deps.logger);
    checkResponseIssuer(req, deps.idp, deps.logger);

    const idpError = queryString(req, 'error');
    if (idpError !== undefined) {
      // Echo only a well-formed OAuth error code; the description is the IdP's text and stays in the log.
      const code = /^[a-z_]{1,64}$/.test(idpError) ? idpError : 'invalid_request';
      deps.logger.info(
        {
          error: code,
          description: queryString(req, 'error_description')?.slice(0, 300),
          knownState: pending !== undefined,
        },
        'IdP returned an error to the callback',
      );
      // A silent sign-in the IdP could not complete without the user: back to the app, which asked.
      if (pending?.options?.prompt === 'none' && SILENT_LOGIN_ERRORS.has(code)) {
        res.redirect(302, withLoginError(pending.returnTo, code));
        return code;
      }
      throw new LoginError(code, 'The identity provider did not complete the sign-in.');
    }
    if (pending === undefined) {
      deps.logger.info(
        { hasState: state !== undefined, hasLoginCookie: loginId !== undefined },
        'callback with unknown state',
      );
      throw new LoginError(
        'invalid_state',
        'This sign-in link is unknown, already used, or from another browser.',
      );
    }
    if (deps.now() - pending.createdAt > LOGIN_LIFETIME_MS) {
      throw new LoginError('login_expired', 'The sign-in took longer than 10 minutes.');
    }

    const result = await exchangeCode(
      deps.idp,
      {
        redirectUri: deps.config.redirectUri,
        callbackQuery: new URL(req.originalUrl, 'http://callback.invalid').search,
        expectedState: state!,
        expectedNonce: pending.nonce,
        codeVerifier: pending.codeVerifier,
        maxAgeSec: pending.options?.maxAge,
      },
      deps.logger,
    ).catch((err: unknown) => {
      // The oidc layer's refusal becomes the contract's answer here.
      if (err instanceof CodeExchangeRefused)
        throw new LoginError('exchange_failed', err.message, 400, { cause: err });
      throw err;
    });

    const now = deps.now();
    const record: SessionRecord = {
      sub: String(result.idTokenClaims.sub),
      idpSid: typeof result.idTokenClaims.sid === 'string' ? result.idTokenClaims.sid : undefined,
      claims: userClaims(result.idTokenClaims, result.userInfo),
      tokens: result.tokens,
      accessTokenExpiresAt: result.accessTokenExpiresAt,
      accessTokenIssuedAt: result.accessTokenIssuedAt,
      ...newSessionTimes(now, deps.config.session),
      ...(result.dpopKey !== undefined ? { dpopKey: result.dpopKey } : {}),
    };
    // A new id at every login (session fixation); the old session, if any, is deleted.
    await regenerateSession(req);
    req.session.bff = record;
    await saveSession(req);
    try {
      await deps.sessionIndex.add(req.sessionID, record);
    } catch (err) {
      // Without its index entries back-channel logout could not end this session: do not keep it.
      await destroySession(req).catch(() => undefined);
      throw err;
    }
    deps.logger.info(
      {
        sub: record.sub,
        idpSid: record.idpSid,
        acr: record.claims.acr,
        acrRequested: pending.options?.acrValues,
      },
      'signed in',
    );
    res.status(200).type('html').send(signedInPage(pending.returnTo));
    return 'ok';
  };
}
