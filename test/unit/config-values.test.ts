/** loadConfig: values read from env (split from the former config.test.ts by section). */
import path from 'node:path';
import { describe, it, expect } from 'vitest';

import { deriveTokenKey } from '../../src/config/index.js';
import { SECRET_A, SECRET_B, KEY_STD, KEY_URL, load, type Env } from '../helpers/config.js';

describe('loadConfig values', () => {
  it('accepts loopback http issuers and keeps the issuer string as given', () => {
    for (const issuer of [
      'http://localhost:9000',
      'http://127.0.0.1:9000/realms/x/',
      'http://127.8.9.1',
      'http://[::1]:9000',
    ]) {
      expect(load({ OIDC_ISSUER: issuer }).oidc.issuer).toBe(issuer);
    }
    expect(load({ OIDC_ISSUER: 'https://login.example.com/tenant/' }).oidc.issuer).toBe(
      'https://login.example.com/tenant/',
    );
  });

  it('allows a non-loopback http issuer only with OIDC_ALLOW_INSECURE_HTTP, with a warning', () => {
    const config = load({ OIDC_ISSUER: 'http://idp.internal', OIDC_ALLOW_INSECURE_HTTP: 'YES' });
    expect(config.oidc.allowInsecureHttp).toBe(true);
    expect(config.oidc.issuer).toBe('http://idp.internal');
    expect(config.warnings.some((w) => w.includes('OIDC_ISSUER'))).toBe(true);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['No', false],
  ] as const)('parses the boolean %s', (text, value) => {
    expect(load({ OIDC_ALLOW_INSECURE_HTTP: text }).oidc.allowInsecureHttp).toBe(value);
  });

  it('makes a public client without a secret, with a warning', () => {
    const config = load({ OIDC_CLIENT_SECRET: undefined });
    expect(config.oidc.clientSecret).toBeUndefined();
    expect(config.oidc.clientAuth).toBe('none');
    expect(config.warnings.some((w) => w.includes('OIDC_CLIENT_SECRET'))).toBe(true);
  });

  it('takes client_secret_post', () => {
    expect(load({ OIDC_CLIENT_AUTH: 'client_secret_post' }).oidc.clientAuth).toBe('client_secret_post');
  });

  it('dedupes scopes and keeps their order', () => {
    expect(load({ OIDC_SCOPES: '  email openid   email profile ' }).oidc.scopes).toEqual([
      'email',
      'openid',
      'profile',
    ]);
  });

  it('parses OIDC_AUTH_PARAMS into ordered pairs, repeats allowed', () => {
    const config = load({
      OIDC_AUTH_PARAMS: 'audience=https%3A%2F%2Fapi&prompt=consent&resource=urn:a&resource=urn:b',
    });
    expect(config.oidc.authParams).toEqual([
      ['audience', 'https://api'],
      ['prompt', 'consent'],
      ['resource', 'urn:a'],
      ['resource', 'urn:b'],
    ]);
  });

  it('stores the clock tolerance in whole seconds', () => {
    expect(load({ OIDC_CLOCK_TOLERANCE: '2m' }).oidc.clockToleranceSec).toBe(120);
    expect(load({ OIDC_CLOCK_TOLERANCE: '0' }).oidc.clockToleranceSec).toBe(0);
  });

  it('normalises the public URL to its origin', () => {
    const config = load({ BFF_PUBLIC_URL: 'https://APP.example.com:443/' });
    expect(config.publicUrl).toBe('https://app.example.com');
    expect(config.redirectUri).toBe('https://app.example.com/auth/callback');
    expect(load({ BFF_PUBLIC_URL: 'http://127.0.0.1:8080' }).publicUrl).toBe('http://127.0.0.1:8080');
  });

  it('warns about a non-loopback http public URL outside production', () => {
    const config = load({ BFF_PUBLIC_URL: 'http://app.internal' });
    expect(config.session.secure).toBe(false);
    expect(config.warnings.some((w) => w.includes('BFF_PUBLIC_URL'))).toBe(true);
  });

  it('reads each Redis mode', () => {
    expect(load({ REDIS_URL: 'rediss://:pw@redis.example.com:6380/1' }).redis).toEqual({
      mode: 'standalone',
      url: 'rediss://:pw@redis.example.com:6380/1',
      keyPrefix: 'bff:',
    });
    expect(
      load({ REDIS_CLUSTER_NODES: 'redis-1:7000, [::1]:7001,10.0.0.3:7002', REDIS_KEY_PREFIX: 'app1:' })
        .redis,
    ).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'redis-1', port: 7000 },
        { host: '::1', port: 7001 },
        { host: '10.0.0.3', port: 7002 },
      ],
      keyPrefix: 'app1:',
    });
    expect(load({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster' }).redis).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      keyPrefix: 'bff:',
    });
    expect(load({ REDIS_URL: 'redis://r' }).warnings.some((w) => w.includes('IN MEMORY'))).toBe(false);
  });

  it('keeps rotation order of session secrets and derives one key per secret', () => {
    const config = load({ SESSION_SECRET: ` ${SECRET_A} , ${SECRET_B} ` });
    expect(config.session.secrets).toEqual([SECRET_A, SECRET_B]);
    expect(config.session.secretsGenerated).toBe(false);
    expect(config.tokens.encryptionKeys).toEqual([deriveTokenKey(SECRET_A), deriveTokenKey(SECRET_B)]);
  });

  it('derives token keys deterministically per secret, different for different secrets', () => {
    const first = load({ SESSION_SECRET: SECRET_A }).tokens.encryptionKeys[0]!;
    const again = load({ SESSION_SECRET: SECRET_A }).tokens.encryptionKeys[0]!;
    const other = load({ SESSION_SECRET: SECRET_B }).tokens.encryptionKeys[0]!;
    expect(first.length).toBe(32);
    expect(first.equals(again)).toBe(true);
    expect(first.equals(other)).toBe(false);
    expect(Buffer.isBuffer(first)).toBe(true);
  });

  it('decodes standard and url-safe base64 token keys', () => {
    const keys = load({ SESSION_SECRET: SECRET_A, TOKEN_ENCRYPTION_KEY: `${KEY_STD},${KEY_URL}` }).tokens
      .encryptionKeys;
    expect(KEY_STD).toMatch(/[+/]/);
    expect(keys).toHaveLength(2);
    expect(keys[0]!.equals(Buffer.alloc(32, 0xfb))).toBe(true);
    expect(keys[1]!.equals(Buffer.alloc(32, 0xfb))).toBe(true);
  });

  it('reads lifetimes and the refresh skew', () => {
    const config = load({ SESSION_IDLE_TIMEOUT: '2h', SESSION_MAX_AGE: '1h', TOKEN_REFRESH_SKEW: '0' });
    expect(config.session.idleTimeoutMs).toBe(7_200_000);
    expect(config.session.maxAgeMs).toBe(3_600_000);
    expect(config.tokens.refreshSkewMs).toBe(0);
  });

  it('names cookies for http and https', () => {
    const http = load().session;
    expect([http.cookieName, http.loginCookieName, http.secure]).toEqual(['bff-session', 'bff-login', false]);
    const https = load({ BFF_PUBLIC_URL: 'https://app.example.com' }).session;
    expect([https.cookieName, https.loginCookieName, https.secure]).toEqual([
      '__Host-bff-session',
      '__Host-bff-login',
      true,
    ]);
    expect(load({ BFF_COOKIE_NAME: 'my_session' }).session.cookieName).toBe('my_session');
    expect(
      load({ BFF_PUBLIC_URL: 'https://a.example', BFF_COOKIE_NAME: '__Host-mine' }).session.cookieName,
    ).toBe('__Host-mine');
  });

  it('warns at start-up when an https cookie name lacks the __Host- prefix (cookie tossing)', () => {
    const tossable = (env: Env) =>
      load(env).warnings.filter((w) => w.includes('BFF_COOKIE_NAME') && w.includes('__Host-'));
    const https = 'https://app.example.com';
    expect(tossable({ BFF_PUBLIC_URL: https, BFF_COOKIE_NAME: 'my_session' })).toHaveLength(1);
    expect(tossable({ BFF_PUBLIC_URL: https, BFF_COOKIE_NAME: '__Secure-my_session' })).toHaveLength(1);
    expect(tossable({ BFF_PUBLIC_URL: https, BFF_COOKIE_NAME: '__Host-mine' })).toEqual([]);
    expect(tossable({ BFF_PUBLIC_URL: https })).toEqual([]);
    // Over http no name can be protected (browsers take __Host- only over https): nothing to warn about.
    expect(tossable({ BFF_COOKIE_NAME: 'my_session' })).toEqual([]);
  });

  it('reads COOKIE_SAMESITE case-insensitively', () => {
    expect(load({ COOKIE_SAMESITE: 'LAX' }).session.sameSite).toBe('lax');
    expect(load({ COOKIE_SAMESITE: 'Strict' }).session.sameSite).toBe('strict');
  });

  it.each([
    ['true', true],
    ['False', false],
    ['0', 0],
    ['2', 2],
    ['loopback', 'loopback'],
    [
      ' loopback , 10.0.0.0/8, fd00::/8, 192.168.1.1/255.255.255.0 ',
      'loopback,10.0.0.0/8,fd00::/8,192.168.1.1/255.255.255.0',
    ],
  ] as const)('reads TRUST_PROXY %j', (text, value) => {
    expect(load({ TRUST_PROXY: text }).trustProxy).toEqual(value);
  });

  it('adds the API_TARGET route', () => {
    expect(load({ API_TARGET: 'http://api:8080/v1/' }).routes).toEqual([
      {
        prefix: '/api',
        target: 'http://api:8080/v1',
        token: 'user',
        scopes: [],
        csrf: true,
        methods: undefined,
        websocket: false,
        timeoutMs: 30_000,
      },
    ]);
  });

  it('reads the frontend, metrics and log level', () => {
    const config = load({ FRONTEND_DIR: 'src', METRICS_PORT: '9100', LOG_LEVEL: 'DEBUG' });
    expect(config.frontend.dir).toBe(path.resolve('src'));
    expect(config.metrics.port).toBe(9100);
    expect(config.logLevel).toBe('debug');
    expect(load({ FRONTEND_URL: 'http://localhost:5173/' }).frontend).toEqual({
      dir: undefined,
      url: 'http://localhost:5173',
    });
    expect(load({ PORT: '0', METRICS_PORT: '9100' }).metrics.port).toBe(9100);
  });
});
