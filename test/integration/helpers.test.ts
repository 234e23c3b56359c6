/**
 * Self-test of the test helpers against the real things (redis-server, oidc-provider over HTTP),
 * without a gateway: openid-client plays the relying party.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import * as jose from 'jose';
import * as client from 'openid-client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../helpers/browser.js';
import { CookieJar, getRaw, getSetCookie, parseSetCookie } from '../helpers/cookie-jar.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { completeAtIdp, confirmIdpLogout, parseForms } from '../helpers/login.js';
import { captureLogs } from '../helpers/logs.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const RP = 'http://127.0.0.1:9'; // never contacted: completeAtIdp stops at the redirect off the IdP
const REDIRECT_URI = `${RP}/auth/callback`;
const POST_LOGOUT = `${RP}/`;
const BASIC = { id: 'bff', secret: 'basic-secret-0123456789abcdefghij' };
const POST = { id: 'post-client', secret: 'post-secret-0123456789abcdefghij' };

describe('redis helper', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('runs an isolated redis-server and dumps keys with TTLs', async () => {
    expect(redis.port).not.toBe(6379);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    await redis.client.set('bff:sess:a', 'hello', 'PX', 60_000);
    await redis.client.hset('bff:h', { b: '2', a: '1' });
    await redis.client.expire('bff:h', 30);
    await redis.client.set('no-ttl', 'x');
    const dump = await redis.dumpAll();
    expect(dump.map((d) => d.key)).toEqual(['bff:h', 'bff:sess:a', 'no-ttl']);
    const [hash, str, noTtl] = dump;
    expect(str).toMatchObject({ type: 'string', value: 'hello' });
    expect(str?.ttlMs).toBeGreaterThan(50_000);
    expect(str?.ttlMs).toBeLessThanOrEqual(60_000);
    expect(hash).toMatchObject({ type: 'hash', value: '{"a":"1","b":"2"}' });
    expect(hash?.ttlMs).toBeGreaterThan(20_000);
    expect(noTtl?.ttlMs).toBe(-1);
    await redis.flush();
    expect(await redis.dumpAll()).toEqual([]);
  });

  it('pause() makes it hang, resume() brings it back', async () => {
    const probe = new Redis({
      host: '127.0.0.1',
      port: redis.port,
      commandTimeout: 300,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => {});
    try {
      expect(await probe.ping()).toBe('PONG');
      redis.pause();
      await expect(probe.ping()).rejects.toThrow(/timed out/i);
      redis.resume();
      expect(await redis.client.ping()).toBe('PONG');
    } finally {
      redis.resume();
      probe.disconnect();
    }
  });
});

describe('cookie jar', () => {
  it('parses Set-Cookie attributes', () => {
    const c = parseSetCookie('bff-session=s%3Aabc; Path=/; Max-Age=1800; HttpOnly; SameSite=Strict; Secure');
    expect(c).toMatchObject({
      name: 'bff-session',
      value: 's%3Aabc',
      path: '/',
      maxAge: 1800,
      httpOnly: true,
    });
    expect(c).toMatchObject({ secure: true, sameSite: 'Strict', domain: undefined });
    const headers = new Headers();
    headers.append('set-cookie', 'a=1; Path=/');
    headers.append('set-cookie', 'b=2; Domain=example.com; HttpOnly');
    expect(getRaw(headers, 'b')).toBe('b=2; Domain=example.com; HttpOnly');
    expect(getSetCookie(headers, 'b')?.domain).toBe('example.com');
    expect(getSetCookie(headers, 'c')).toBeUndefined();
  });

  it('keeps hosts apart, matches paths, honours deletions', () => {
    const jar = new CookieJar();
    const bff = 'http://127.0.0.1:3000';
    const idp = 'http://127.0.0.1:4000';
    jar.store(`${bff}/auth/login`, ['login=L; Path=/; Max-Age=600', 'scoped=S; Path=/auth']);
    jar.store(`${idp}/auth`, ['_interaction=I; Path=/interaction/abc']);
    expect(jar.header(`${bff}/`)).toBe('login=L');
    expect(jar.header(`${bff}/auth/callback`)).toBe('scoped=S; login=L');
    expect(jar.header(`${bff}/authx`)).toBe('login=L');
    expect(jar.header(`${idp}/interaction/abc`)).toBe('_interaction=I');
    expect(jar.header(`${idp}/interaction/abcd`)).toBe('');
    jar.store(`${bff}/x`, ['login=; Path=/; Max-Age=0']);
    jar.store(`${bff}/x`, ['scoped=; Path=/auth; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    expect(jar.header(`${bff}/auth/callback`)).toBe('');
    jar.store(`${bff}/a/b`, ['def=1']); // default path /a
    expect(jar.get(`${bff}/a/c`, 'def')).toBe('1');
    expect(jar.get(`${bff}/b`, 'def')).toBeUndefined();
  });
});

describe('logs helper', () => {
  it('captures pino output', () => {
    const logs = captureLogs();
    const log = pino({ level: 'info' }, logs.stream);
    log.info({ sub: 'alice' }, 'first');
    log.warn('second');
    expect(logs.lines()).toHaveLength(2);
    expect(logs.json()[0]).toMatchObject({ sub: 'alice', msg: 'first' });
    expect(logs.text()).toContain('second');
  });
});

interface BclDelivery {
  logoutToken: string;
}

describe('idp helper', () => {
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
    const { logoutToken } = await nextDelivery;
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
