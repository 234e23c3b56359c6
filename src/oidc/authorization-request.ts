import * as client from 'openid-client';
import type { GatewayConfig } from '../config/types.js';

export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * Authorization Code + PKCE (S256) + OIDC request. The configured extra parameters go first and the
 * protocol's own are set last, so nothing in OIDC_AUTH_PARAMS can replace them (the config loader
 * already refuses such names; this is the second lock).
 */
export async function buildAuthorizationRequest(
  configuration: client.Configuration,
  oidc: GatewayConfig['oidc'],
  redirectUri: string,
): Promise<AuthorizationRequest> {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const params = new URLSearchParams(oidc.authParams);
  const protocol: Record<string, string> = {
    redirect_uri: redirectUri,
    scope: oidc.scopes.join(' '),
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  for (const [name, value] of Object.entries(protocol)) params.set(name, value);
  return { url: client.buildAuthorizationUrl(configuration, params), state, nonce, codeVerifier };
}
