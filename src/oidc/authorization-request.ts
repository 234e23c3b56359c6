import * as client from 'openid-client';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { IdpUnavailableError, LoginError } from '../errors.js';
import { describeError, type Logger } from '../observability/logger.js';
import { describeIdpFailure, isTransientIdpError } from './idp-errors.js';
import { loginOptionParams, parseMaxAge, type LoginOptions } from './login-options.js';
import type { IdentityProvider } from './provider.js';

export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Whether it went by pushed authorization request (RFC 9126). */
  pushed: boolean;
  /** The `max_age` sent (a sign-in option, or OIDC_AUTH_PARAMS), which the callback checks. */
  maxAge: number | undefined;
}

/**
 * RFC 8707 §2.1: every route `audience`, asked for at sign-in, so that IdPs which check a refresh
 * request's `resource` against the grant allow the per-route grants (session/refresh/route-tokens.ts).
 * Exchange audiences are not resources of this grant: the exchange asks for them itself.
 */
export function routeResources(routes: readonly RouteConfig[]): string[] {
  return [...new Set(routes.flatMap((route) => (route.audience === undefined ? [] : [route.audience])))];
}

/**
 * Authorization Code + PKCE (S256) + OIDC request. The configured extra parameters go first, the
 * browser's sign-in options replace any of the same name (a silent `prompt=none` must win over a
 * configured `prompt=consent`), and the protocol's own are set last, so nothing can replace them
 * (the config loader already refuses such names in OIDC_AUTH_PARAMS; this is the second lock).
 *
 * With OIDC_PAR, or an IdP that requires it, the parameters are pushed to the IdP (authenticated like
 * every token-endpoint call) and the browser's URL carries only `client_id` and `request_uri`.
 */
export async function buildAuthorizationRequest(
  idp: IdentityProvider,
  oidc: GatewayConfig['oidc'],
  redirectUri: string,
  options: LoginOptions,
  logger: Logger,
  /** `resource` parameters (routeResources), after any configured ones. */
  resources: readonly string[] = [],
): Promise<AuthorizationRequest> {
  const configuration = idp.requireConfiguration(); // 503 idp_unavailable until discovery succeeded
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const params = new URLSearchParams(oidc.authParams);
  const protocol: [string, string][] = [
    ['redirect_uri', redirectUri],
    ['scope', oidc.scopes.join(' ')],
    ['code_challenge', await client.calculatePKCECodeChallenge(codeVerifier)],
    ['code_challenge_method', 'S256'],
    ['state', state],
    ['nonce', nonce],
  ];
  for (const [name, value] of [...loginOptionParams(options), ...protocol]) params.set(name, value);
  const configured = new Set(params.getAll('resource'));
  for (const resource of resources) if (!configured.has(resource)) params.append('resource', resource);

  const pushed = oidc.par || idp.metadata.require_pushed_authorization_requests === true;
  const url = pushed
    ? await pushAuthorizationRequest(idp, params, logger)
    : client.buildAuthorizationUrl(configuration, params);
  const maxAge = parseMaxAge(params.get('max_age') ?? undefined);
  return { url, state, nonce, codeVerifier, pushed, maxAge };
}

/**
 * RFC 9126: POST the parameters to the IdP's PAR endpoint; the answer's `request_uri` goes into the
 * redirect. An unreachable IdP, or one that refuses the gateway itself (`invalid_client`, no PAR
 * endpoint: configuration faults), is 503 `idp_unavailable`; any other refusal is the IdP's own error
 * code on the login error page.
 */
async function pushAuthorizationRequest(
  idp: IdentityProvider,
  params: URLSearchParams,
  logger: Logger,
): Promise<URL> {
  if (!idp.metadata.pushed_authorization_request_endpoint) {
    logger.error(
      { issuer: idp.metadata.issuer },
      'OIDC_PAR is true but the IdP advertises no pushed_authorization_request_endpoint; sign-in is impossible until one of them changes',
    );
    throw new IdpUnavailableError('The identity provider does not accept pushed authorization requests.');
  }
  try {
    return await idp.call('pushed_authorization', () =>
      client.buildAuthorizationUrlWithPAR(idp.requireConfiguration(), params),
    );
  } catch (err) {
    const failure = await describeIdpFailure(err);
    if (isTransientIdpError(err) || failure.error === 'invalid_client' || failure.error === undefined) {
      logger.warn({ ...failure, err: describeError(err) }, 'pushed authorization request failed');
      throw new IdpUnavailableError(undefined, { cause: err });
    }
    logger.info({ ...failure }, 'pushed authorization request refused');
    const code = /^[a-z_]{1,64}$/.test(failure.error) ? failure.error : 'invalid_request';
    throw new LoginError(code, 'The identity provider refused the sign-in request.', 400, { cause: err });
  }
}
