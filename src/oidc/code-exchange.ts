import * as client from 'openid-client';
import { IdpUnavailableError } from '../errors.js';
import { describeError, type Logger } from '../observability/logger.js';
import type { TokenSet } from '../session/records/record.js';
import type { DpopOptions } from './dpop.js';
import { IdTokenKeysUnavailableError } from './id-token.js';
import { isTransientIdpError } from './idp-errors.js';
import type { IdentityProvider } from './provider.js';
import { accessTokenTimes, tokenSetFrom } from './token-response.js';

export interface ExchangeResult {
  tokens: TokenSet;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  accessTokenIssuedAt: number;
  idTokenClaims: Record<string, unknown>;
  userInfo: Record<string, unknown> | undefined;
  /** OIDC_DPOP: the session's new key, which the tokens are bound to (kept in the session record). */
  dpopKey: string | undefined;
}

export interface ExchangeInput {
  /** The registered redirect URI; the callback's query is appended to it (see NOTES: a wrong origin breaks the exchange). */
  redirectUri: string;
  callbackQuery: string;
  expectedState: string;
  expectedNonce: string;
  codeVerifier: string;
  /** The `max_age` sent (seconds): the ID token must then carry an `auth_time` at most this old. */
  maxAgeSec?: number | undefined;
}

/** The IdP refused the code, or its answer failed validation: the sign-in cannot complete. */
export class CodeExchangeRefused extends Error {
  override readonly name = 'CodeExchangeRefused';
  constructor(options?: ErrorOptions) {
    super('The identity provider refused the sign-in, or its answer failed validation.', options);
  }
}

/**
 * Exchanges the code (with the PKCE verifier) and validates the ID token: openid-client checks issuer,
 * audience, azp, nonce and times, and `auth_time` against a requested `max_age`; the signature and
 * `alg` are checked here against the IdP's JWKS, because openid-client trusts ID tokens from the
 * token endpoint unsigned. A refusal throws CodeExchangeRefused (the callback answers `exchange_failed`),
 * an unreachable IdP `idp_unavailable`.
 */
export async function exchangeCode(
  idp: IdentityProvider,
  input: ExchangeInput,
  logger: Logger,
): Promise<ExchangeResult> {
  const currentUrl = new URL(input.redirectUri);
  currentUrl.search = input.callbackQuery;
  let response: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  // OIDC_DPOP: the key is made here, so that the very first tokens are bound to it.
  const dpopKey = idp.dpop.newSessionKey();
  const dpop = await idp.dpop.forSession(dpopKey);
  try {
    response = await idp.call('code_exchange', () =>
      client.authorizationCodeGrant(
        idp.requireConfiguration(),
        currentUrl,
        {
          pkceCodeVerifier: input.codeVerifier,
          expectedState: input.expectedState,
          expectedNonce: input.expectedNonce,
          idTokenExpected: true,
          ...(input.maxAgeSec !== undefined ? { maxAge: input.maxAgeSec } : {}),
        },
        undefined,
        dpop,
      ),
    );
    // idTokenExpected made openid-client refuse an answer without one.
    await idp.idTokens.verify(response.id_token ?? '');
  } catch (err) {
    if (isTransientIdpError(err) || err instanceof IdTokenKeysUnavailableError) {
      logger.warn({ err: describeError(err) }, 'code exchange: IdP unreachable');
      throw new IdpUnavailableError(undefined, { cause: err });
    }
    logger.warn({ err: describeError(err) }, 'code exchange refused or ID token invalid');
    throw new CodeExchangeRefused({ cause: err });
  }

  const idTokenClaims = { ...(response.claims() ?? {}) } as Record<string, unknown>;
  return {
    tokens: tokenSetFrom(response),
    ...accessTokenTimes(response.access_token, response.expires_in, Date.now()),
    idTokenClaims,
    userInfo: await fetchUserInfo(idp, response.access_token, String(idTokenClaims.sub), logger, dpop),
    dpopKey,
  };
}

/** UserInfo is a bonus: an IdP whose access tokens it will not accept (audience-bound JWTs) still signs in. */
async function fetchUserInfo(
  idp: IdentityProvider,
  accessToken: string,
  sub: string,
  logger: Logger,
  dpop: DpopOptions,
): Promise<Record<string, unknown> | undefined> {
  if (!idp.metadata.userinfo_endpoint) return undefined;
  try {
    return {
      ...(await idp.call('userinfo', () =>
        client.fetchUserInfo(idp.requireConfiguration(), accessToken, sub, dpop),
      )),
    };
  } catch (err) {
    logger.warn({ sub, err: describeError(err) }, 'UserInfo request failed; using ID token claims only');
    return undefined;
  }
}
