/**
 * What the IdP helper's self-test (test/integration/helpers-idp-*.test.ts) runs against: the test IdP
 * with a client_secret_basic client (back-channel logout to a loopback receiver here) and a
 * client_secret_post client; openid-client plays the relying party (`discover`, `login` with PKCE).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import * as client from 'openid-client';
import { afterAll, beforeAll, expect } from 'vitest';
import type { TestBrowser } from './browser.js';
import { startIdp, type TestIdp } from './idp.js';
import { completeAtIdp } from './login.js';

export const RP = 'http://127.0.0.1:9'; // never contacted: completeAtIdp stops at the redirect off the IdP
export const REDIRECT_URI = `${RP}/auth/callback`;
export const POST_LOGOUT = `${RP}/`;
export const BASIC = { id: 'bff', secret: 'basic-secret-0123456789abcdefghij' };
export const POST = { id: 'post-client', secret: 'post-secret-0123456789abcdefghij' };

export interface BclDelivery {
  logoutToken: string;
}

/** Starts the self-test IdP and its back-channel receiver for the calling `describe`. */
export function useSelfTestIdp() {
  let idp: TestIdp;
  let bcl: Server;
  const deliveries: BclDelivery[] = [];
  let nextDelivery: Promise<BclDelivery>;
  let deliver: (d: BclDelivery) => void = () => {};
  const armDelivery = (): void => {
    nextDelivery = new Promise((resolve) => {
      deliver = resolve;
    });
  };

  beforeAll(async () => {
    armDelivery();
    bcl = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const d = { logoutToken: new URLSearchParams(body).get('logout_token') ?? '' };
        deliveries.push(d);
        res.writeHead(200, { 'cache-control': 'no-store' }).end();
        deliver(d);
      });
    });
    bcl.listen(0, '127.0.0.1');
    await once(bcl, 'listening');
    const bclPort = (bcl.address() as AddressInfo).port;
    idp = await startIdp({
      clients: [
        {
          client_id: BASIC.id,
          client_secret: BASIC.secret,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [REDIRECT_URI],
          post_logout_redirect_uris: [POST_LOGOUT],
          backchannel_logout_uri: `http://127.0.0.1:${bclPort}/auth/backchannel-logout`,
        },
        {
          client_id: POST.id,
          client_secret: POST.secret,
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [REDIRECT_URI],
        },
      ],
    });
  });
  afterAll(async () => {
    await idp?.stop();
    bcl?.close();
  });

  async function login(
    config: client.Configuration,
    browser: TestBrowser,
    loginId: string,
  ): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizeUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const callbackUrl = await completeAtIdp(browser, authorizeUrl, loginId);
    expect(`${callbackUrl.origin}${callbackUrl.pathname}`).toBe(REDIRECT_URI);
    expect(callbackUrl.searchParams.get('iss')).toBe(idp.issuer);
    expect(callbackUrl.searchParams.get('state')).toBe(state);
    const seen = idp.lastAuthorizationRequests.at(-1);
    expect(seen?.get('code_challenge_method')).toBe('S256');
    expect(seen?.get('state')).toBe(state);
    expect(seen?.get('nonce')).toBe(nonce);
    return client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
  }

  const discover = (id: string, secret: string, auth: client.ClientAuth): Promise<client.Configuration> =>
    client.discovery(new URL(idp.issuer), id, secret, auth, { execute: [client.allowInsecureRequests] });

  return {
    get idp() {
      return idp;
    },
    /** Every back-channel logout the receiver got. */
    deliveries,
    /** The next delivery after `armDelivery()`. */
    get nextDelivery() {
      return nextDelivery;
    },
    armDelivery,
    login,
    discover,
  };
}
