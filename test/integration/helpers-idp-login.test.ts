/**
 * Self-test of the test helpers against the real things (redis-server, oidc-provider over HTTP),
 * without a gateway: the IdP helper's login flow, with openid-client as the relying party
 * (log in, refresh with rotation, introspect, RP-initiated logout with back-channel logout, consent=false).
 */
import * as jose from 'jose';
import * as client from 'openid-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../helpers/browser.js';
import type { TestIdp } from '../helpers/idp.js';
import { completeAtIdp, confirmIdpLogout } from '../helpers/login.js';
import { BASIC, POST_LOGOUT, REDIRECT_URI, useSelfTestIdp } from '../helpers/idp-selftest.js';

describe('idp helper', () => {
  const world = useSelfTestIdp();
  const { deliveries, armDelivery, login, discover } = world;
  let idp: TestIdp;
  beforeAll(() => {
    ({ idp } = world);
  });

  it('logs in, refreshes with rotation, introspects, counts', async () => {
    idp.resetCounts();
    const config = await discover(BASIC.id, BASIC.secret, client.ClientSecretBasic());
    const browser = new TestBrowser();
    const tokens = await login(config, browser, 'alice');
    expect(tokens.claims()?.sub).toBe('alice');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.expires_in).toBe(60);
    expect(idp.counts.grants.authorization_code).toBe(1);

    const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(info).toMatchObject({
      sub: 'alice',
      name: 'Alice Liddell',
      email: 'alice@example.com',
      email_verified: true,
    });
    expect(idp.counts.userinfo).toBe(1);

    const oldRt = tokens.refresh_token ?? '';
    const refreshed = await client.refreshTokenGrant(config, oldRt);
    expect(idp.counts.grants.refresh_token).toBe(1);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(oldRt);

    expect(await idp.introspect(oldRt, BASIC.id, BASIC.secret)).toMatchObject({ active: false });
    expect(await idp.introspect(refreshed.access_token, BASIC.id, BASIC.secret)).toMatchObject({
      active: true,
      sub: 'alice',
      client_id: BASIC.id,
    });
    expect(idp.counts.introspections).toBe(2);

    // Reusing the rotated-away RT fails and is counted.
    await expect(client.refreshTokenGrant(config, oldRt)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(idp.counts.grantErrors.refresh_token).toBe(1);

    // SSO: same browser, no form at all the second time.
    const again = await login(config, browser, 'ignored');
    expect(again.claims()?.sub).toBe('alice');
    expect(idp.counts.grants.authorization_code).toBe(2);
  });

  it('RP-initiated logout at the IdP fires back-channel logout to loopback', async () => {
    idp.resetCounts();
    armDelivery();
    const config = await discover(BASIC.id, BASIC.secret, client.ClientSecretBasic());
    const browser = new TestBrowser();
    const tokens = await login(config, browser, 'bob');
    const endSession = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token ?? '',
      post_logout_redirect_uri: POST_LOGOUT,
    });
    const landing = await confirmIdpLogout(browser, endSession);
    expect(landing.href).toBe(POST_LOGOUT);
    const { logoutToken } = await world.nextDelivery;
    const jwks = jose.createRemoteJWKSet(new URL(idp.url('/jwks')));
    const { payload, protectedHeader } = await jose.jwtVerify(logoutToken, jwks, {
      issuer: idp.issuer,
      audience: BASIC.id,
    });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload.sub).toBe('bob');
    expect(payload.sid).toEqual(expect.any(String));
    expect(payload.sid).toBe(tokens.claims()?.sid); // sid is in the ID token because the client registered a BCL URI
    expect(idp.counts.backchannelLogouts).toBe(1);
    expect(deliveries).toHaveLength(1);
    // logout=yes revoked the grant (offline_access is dropped without prompt=consent): the RT is dead.
    await expect(client.refreshTokenGrant(config, tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    // Revoking a dead token still answers 200, and is counted.
    await client.tokenRevocation(config, tokens.refresh_token ?? '');
    expect(idp.counts.revocations).toBe(1);
  });

  it('consent=false ends in access_denied at the redirect URI', async () => {
    const config = await discover(BASIC.id, BASIC.secret, client.ClientSecretBasic());
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: 'st',
    });
    const cb = await completeAtIdp(new TestBrowser(), url, 'carol', { consent: false });
    expect(cb.searchParams.get('error')).toBe('access_denied');
    expect(cb.searchParams.get('state')).toBe('st');
  });
});
