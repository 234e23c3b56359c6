/**
 * Self-test of the test helpers against the real things (redis-server, oidc-provider over HTTP),
 * without a gateway: the IdP helper's clients (client_secret_post, clients added after start),
 * setDown/recovery, the generic login form parser, and JWT access tokens for an audience.
 */
import * as jose from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { completeAtIdp, parseForms } from '../helpers/login.js';
import { freePort } from '../helpers/ports.js';
import { BASIC, POST, REDIRECT_URI, useSelfTestIdp } from '../helpers/idp-selftest.js';

describe('idp helper', () => {
  const world = useSelfTestIdp();
  const { login, discover } = world;
  let idp: TestIdp;
  beforeAll(() => {
    ({ idp } = world);
  });

  it('a client_secret_post client works with ClientSecretPost()', async () => {
    idp.resetCounts();
    const config = await discover(POST.id, POST.secret, client.ClientSecretPost());
    const tokens = await login(config, new TestBrowser(), 'bob');
    expect(tokens.claims()?.sub).toBe('bob');
    expect(await idp.introspect(tokens.access_token, POST.id, POST.secret)).toMatchObject({
      active: true,
      sub: 'bob',
    });
    const cc = await client.clientCredentialsGrant(config, { scope: 'api:read' });
    expect(cc.scope).toBe('api:read');
    expect(idp.counts.grants).toEqual({ authorization_code: 1, client_credentials: 1 });
  });

  it('addClient registers a client after start', async () => {
    idp.addClient({
      client_id: 'late',
      client_secret: 'late-secret-0123456789abcdefghij',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['http://127.0.0.1:10/auth/callback'],
    });
    const config = await discover('late', 'late-secret-0123456789abcdefghij', client.ClientSecretBasic());
    const cc = await client.clientCredentialsGrant(config, { scope: 'api:write' });
    expect(await idp.introspect(cc.access_token, 'late', 'late-secret-0123456789abcdefghij')).toMatchObject({
      active: true,
      client_id: 'late',
    });
  });

  it('setDown(true) resets connections, setDown(false) recovers on the same port', async () => {
    const discovery = idp.url('/.well-known/openid-configuration');
    expect((await fetch(discovery)).status).toBe(200); // also leaves a keep-alive socket behind
    idp.setDown(true);
    await expect(fetch(discovery)).rejects.toThrow(TypeError); // "fetch failed" (ECONNRESET / socket closed)
    idp.setDown(false);
    const res = await fetch(discovery);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(idp.issuer);
  });

  it('parses the IdP login form generically', async () => {
    const config = await discover(BASIC.id, BASIC.secret, client.ClientSecretBasic());
    const browser = new TestBrowser();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const hops = await browser.follow(url);
    const last = hops.at(-1);
    expect(last?.response.status).toBe(200);
    expect(last?.url.pathname).toMatch(/^\/interaction\//);
    const [form] = parseForms(await last!.response.text(), last!.url);
    expect(form?.method).toBe('POST');
    expect(form?.fields.get('prompt')).toBe('login');
    expect(form?.action.href).toBe(last?.url.href);
    expect(browser.jar.get(last!.url, '_interaction')).toBeTruthy();
  });
});

describe('idp helper with JWT access tokens', () => {
  let idp: TestIdp;
  const API = 'https://api.test';
  beforeAll(async () => {
    idp = await startIdp({
      port: await freePort(),
      accessTokenTtl: 30,
      jwtAccessTokens: { audience: API },
      clients: [
        {
          client_id: 'bff',
          client_secret: BASIC.secret,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [REDIRECT_URI],
        },
      ],
    });
  });
  afterAll(async () => {
    await idp?.stop();
  });

  it('issues RS256 at+jwt access tokens for the audience', async () => {
    const config = await client.discovery(
      new URL(idp.issuer),
      'bff',
      BASIC.secret,
      client.ClientSecretBasic(),
      {
        execute: [client.allowInsecureRequests],
      },
    );
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email api:read',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 's1',
    });
    const cb = await completeAtIdp(new TestBrowser(), url, 'alice');
    const tokens = await client.authorizationCodeGrant(config, cb, {
      pkceCodeVerifier: verifier,
      expectedState: 's1',
    });
    const { payload, protectedHeader } = await jose.jwtVerify(
      tokens.access_token,
      jose.createRemoteJWKSet(new URL(idp.url('/jwks'))),
      { issuer: idp.issuer, audience: API },
    );
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    expect(payload).toMatchObject({ sub: 'alice', client_id: 'bff', scope: 'api:read' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(30);
    expect(tokens.refresh_token).toBeTruthy();
  });
});
