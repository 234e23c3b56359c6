/**
 * A client of the test IdP without a gateway (openid-client v6 + the test browser): signs a user in
 * with resource indicators, optionally with DPoP. For tests of the IdP itself and of upstreams that
 * verify its tokens (verifying-upstream.ts).
 *
 *   const rp = await idpClient(idp);
 *   const tokens = await rp.signIn({ login: 'alice', resources: ['https://orders.example'] });
 */
import * as client from 'openid-client';
import { TestBrowser } from './browser.js';
import { DEFAULT_CLIENT, type IdpClient, type TestIdp } from './idp-types.js';
import { completeAtIdp } from './login.js';

export interface SignInOptions {
  login?: string;
  /** RFC 8707 `resource` parameters of the authorization request. */
  resources?: string[];
  /** Default `openid email profile offline_access api:read api:write`. */
  scope?: string;
  dpop?: client.DPoPHandle;
}

export interface IdpClientHandle {
  config: client.Configuration;
  signIn(
    options?: SignInOptions,
  ): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers>;
  /** A new ES256 DPoP key and its openid-client handle. */
  dpopKey(): Promise<{ keyPair: client.CryptoKeyPair; handle: client.DPoPHandle }>;
}

export async function idpClient(
  idp: TestIdp,
  registered: IdpClient = DEFAULT_CLIENT,
): Promise<IdpClientHandle> {
  const config = await client.discovery(
    new URL(idp.issuer),
    registered.client_id,
    registered.client_secret,
    registered.token_endpoint_auth_method === 'client_secret_post'
      ? client.ClientSecretPost()
      : client.ClientSecretBasic(),
    { execute: [client.allowInsecureRequests] },
  );
  const redirectUri = registered.redirect_uris[0] as string;
  return {
    config,
    async signIn(options = {}) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const authorize = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: options.scope ?? 'openid email profile offline_access api:read api:write',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      for (const r of options.resources ?? []) authorize.searchParams.append('resource', r);
      const callbackUrl = await completeAtIdp(new TestBrowser(), authorize, options.login ?? 'alice');
      return client.authorizationCodeGrant(
        config,
        callbackUrl,
        { pkceCodeVerifier: verifier, expectedState: state },
        undefined,
        options.dpop ? { DPoP: options.dpop } : undefined,
      );
    },
    async dpopKey() {
      const keyPair = await client.randomDPoPKeyPair('ES256');
      return { keyPair, handle: client.getDPoPHandle(config, keyPair) };
    },
  };
}
