import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';

import { calculateJwkThumbprint, exportJWK } from 'jose';
import { ConfigError, deriveTokenKey, loadConfig, parseDuration } from '../../src/config/index.js';
import { allowedIdTokenAlgs } from '../../src/oidc/id-token.js';

type Env = Record<string, string | undefined>;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECRET_A = 'a'.repeat(40);
const SECRET_B = 'b'.repeat(40);
const KEY_STD = Buffer.alloc(32, 0xfb).toString('base64'); // contains + and /
const KEY_URL = Buffer.alloc(32, 0xfb).toString('base64url');

const BASE: Env = {
  OIDC_ISSUER: 'https://login.example.com',
  OIDC_CLIENT_ID: 'bff',
  OIDC_CLIENT_SECRET: 'client-secret',
};

function load(extra: Env = {}): ReturnType<typeof loadConfig> {
  return loadConfig({ ...BASE, ...extra });
}

/** The ConfigError thrown by loading `env` (without BASE). */
function errorOf(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'bff-config-'));
}

function writeTemp(name: string, text: string): string {
  const file = path.join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

describe('parseDuration', () => {
  it.each([
    ['90', 90_000],
    [90, 90_000],
    ['0', 0],
    ['90s', 90_000],
    ['15m', 900_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    [' 5s ', 5_000],
  ] as const)('parses %j', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    '',
    ' ',
    '-1',
    '-5s',
    '1.5s',
    '1.5x',
    '10ms',
    '5 m',
    '5M',
    's',
    'abc',
    '1e3',
    '99999999999999999999d',
  ])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/duration/);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the number %d', (input) => {
    expect(() => parseDuration(input)).toThrow(/duration/);
  });
});

describe('loadConfig defaults', () => {
  it('fills every default from the required values alone', () => {
    const config = load();
    expect(config.production).toBe(false);
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.redirectUri).toBe('http://localhost:3000/auth/callback');
    expect(config.oidc).toMatchObject({
      issuer: 'https://login.example.com',
      clientId: 'bff',
      clientSecret: 'client-secret',
      clientAuth: 'client_secret_basic',
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      authParams: [],
      clockToleranceSec: 5,
      allowInsecureHttp: false,
    });
    expect(config.redis).toEqual({ mode: 'memory', keyPrefix: 'bff:' });
    expect(config.session).toMatchObject({
      secretsGenerated: true,
      idleTimeoutMs: 30 * 60_000,
      maxAgeMs: 12 * 3_600_000,
      cookieName: 'bff-session',
      loginCookieName: 'bff-login',
      sameSite: 'strict',
      secure: false,
    });
    expect(config.session.secrets).toHaveLength(1);
    expect(config.session.secrets[0]!.length).toBeGreaterThanOrEqual(32);
    expect(config.tokens.encryptionKeys).toHaveLength(1);
    expect(config.tokens.encryptionKeys[0]!.length).toBe(32);
    expect(config.tokens.refreshSkewMs).toBe(30_000);
    expect(config.trustProxy).toBe(false);
    expect(config.frontend).toEqual({ dir: undefined, url: undefined });
    expect(config.metrics).toEqual({ port: undefined });
    expect(config.logLevel).toBe('info');
    expect(config.routes).toEqual([]);
    // memory store + generated secret are both loud
    expect(config.warnings.some((w) => w.includes('IN MEMORY'))).toBe(true);
    expect(config.warnings.some((w) => w.includes('SESSION_SECRET'))).toBe(true);
  });

  it('generates a different random secret per load', () => {
    expect(load().session.secrets[0]).not.toBe(load().session.secrets[0]);
  });

  it('treats empty and blank env values as unset', () => {
    const config = load({ PORT: '', HOST: '  ', LOG_LEVEL: '', REDIS_URL: '', OIDC_SCOPES: '' });
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.redis.mode).toBe('memory');
    expect(config.oidc.scopes).toContain('offline_access');
  });

  it('derives the default public URL from PORT', () => {
    expect(load({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    expect(load({ PORT: '0' }).port).toBe(0);
  });

  it('sets production from NODE_ENV', () => {
    const config = load({
      NODE_ENV: 'production',
      REDIS_URL: 'redis://r:6379',
      SESSION_SECRET: SECRET_A,
      BFF_PUBLIC_URL: 'https://app.example.com',
    });
    expect(config.production).toBe(true);
    expect(config.session.secretsGenerated).toBe(false);
    expect(config.warnings).toEqual([]);
  });
});

describe('loadConfig errors name the variable', () => {
  const cases: [string, Env, string, RegExp?][] = [
    ['OIDC_ISSUER missing', { OIDC_ISSUER: undefined }, 'OIDC_ISSUER', /required/],
    ['OIDC_ISSUER empty', { OIDC_ISSUER: '' }, 'OIDC_ISSUER', /required/],
    ['OIDC_ISSUER not a URL', { OIDC_ISSUER: 'login.example.com' }, 'OIDC_ISSUER'],
    ['OIDC_ISSUER http non-loopback', { OIDC_ISSUER: 'http://login.example.com' }, 'OIDC_ISSUER', /https/],
    ['OIDC_ISSUER ftp', { OIDC_ISSUER: 'ftp://login.example.com' }, 'OIDC_ISSUER'],
    ['OIDC_ISSUER query', { OIDC_ISSUER: 'https://login.example.com/?a=b' }, 'OIDC_ISSUER', /query/],
    ['OIDC_ISSUER fragment', { OIDC_ISSUER: 'https://login.example.com/#x' }, 'OIDC_ISSUER', /fragment/],
    ['OIDC_ISSUER empty query', { OIDC_ISSUER: 'https://login.example.com/?' }, 'OIDC_ISSUER'],
    ['OIDC_CLIENT_ID missing', { OIDC_CLIENT_ID: undefined }, 'OIDC_CLIENT_ID', /required/],
    ['OIDC_CLIENT_AUTH bad', { OIDC_CLIENT_AUTH: 'client_secret_jwt' }, 'OIDC_CLIENT_AUTH'],
    [
      'private_key_jwt without a key',
      { OIDC_CLIENT_AUTH: 'private_key_jwt' },
      'OIDC_CLIENT_PRIVATE_KEY',
      /required/,
    ],
    ['OIDC_ID_TOKEN_ALGS none', { OIDC_ID_TOKEN_ALGS: 'RS256,none' }, 'OIDC_ID_TOKEN_ALGS', /never none/],
    ['OIDC_ID_TOKEN_ALGS HS256', { OIDC_ID_TOKEN_ALGS: 'HS256' }, 'OIDC_ID_TOKEN_ALGS', /HS256/],
    ['OIDC_ID_TOKEN_ALGS empty list', { OIDC_ID_TOKEN_ALGS: ' , ' }, 'OIDC_ID_TOKEN_ALGS', /at least one/],
    [
      'OIDC_CLIENT_AUTH without secret',
      { OIDC_CLIENT_SECRET: undefined, OIDC_CLIENT_AUTH: 'client_secret_post' },
      'OIDC_CLIENT_SECRET',
    ],
    ['OIDC_SCOPES without openid', { OIDC_SCOPES: 'profile email' }, 'OIDC_SCOPES', /openid/],
    ['OIDC_SCOPES comma separated', { OIDC_SCOPES: 'openid,profile' }, 'OIDC_SCOPES', /openid/],
    ['OIDC_SCOPES quote', { OIDC_SCOPES: 'openid "x"' }, 'OIDC_SCOPES'],
    ['OIDC_AUTH_PARAMS empty name', { OIDC_AUTH_PARAMS: '=x' }, 'OIDC_AUTH_PARAMS', /name/],
    ['OIDC_CLOCK_TOLERANCE bad', { OIDC_CLOCK_TOLERANCE: 'soon' }, 'OIDC_CLOCK_TOLERANCE'],
    ['OIDC_CLOCK_TOLERANCE too large', { OIDC_CLOCK_TOLERANCE: '10m' }, 'OIDC_CLOCK_TOLERANCE', /at most 5m/],
    ['OIDC_ALLOW_INSECURE_HTTP bad', { OIDC_ALLOW_INSECURE_HTTP: 'maybe' }, 'OIDC_ALLOW_INSECURE_HTTP'],
    ['PORT not a number', { PORT: 'http' }, 'PORT'],
    ['PORT negative', { PORT: '-1' }, 'PORT'],
    ['PORT too large', { PORT: '65536' }, 'PORT'],
    ['PORT fractional', { PORT: '80.5' }, 'PORT'],
    ['HOST with spaces', { HOST: 'a b' }, 'HOST'],
    [
      'BFF_PUBLIC_URL with path',
      { BFF_PUBLIC_URL: 'https://app.example.com/app' },
      'BFF_PUBLIC_URL',
      /origin/,
    ],
    ['BFF_PUBLIC_URL with query', { BFF_PUBLIC_URL: 'https://app.example.com/?x=1' }, 'BFF_PUBLIC_URL'],
    ['BFF_PUBLIC_URL with hash', { BFF_PUBLIC_URL: 'https://app.example.com#x' }, 'BFF_PUBLIC_URL'],
    ['BFF_PUBLIC_URL not http', { BFF_PUBLIC_URL: 'ws://app.example.com' }, 'BFF_PUBLIC_URL'],
    ['BFF_PUBLIC_URL relative', { BFF_PUBLIC_URL: 'app.example.com' }, 'BFF_PUBLIC_URL'],
    ['REDIS_URL bad scheme', { REDIS_URL: 'http://redis:6379' }, 'REDIS_URL', /redis:\/\//],
    ['REDIS_URL not a URL', { REDIS_URL: 'localhost:6379x' }, 'REDIS_URL'],
    [
      'REDIS_URL and REDIS_CLUSTER_NODES',
      { REDIS_URL: 'redis://r', REDIS_CLUSTER_NODES: 'a:1' },
      'REDIS_URL',
      /REDIS_CLUSTER_NODES/,
    ],
    [
      'REDIS_CLUSTER_NODES and REDIS_SENTINELS',
      { REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm' },
      'REDIS_CLUSTER_NODES',
      /REDIS_SENTINELS/,
    ],
    ['REDIS_SENTINELS without name', { REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_NAME'],
    [
      'REDIS_SENTINEL_NAME without sentinels',
      { REDIS_SENTINEL_NAME: 'mymaster' },
      'REDIS_SENTINEL_NAME',
      /REDIS_SENTINELS/,
    ],
    ['REDIS_CLUSTER_NODES without port', { REDIS_CLUSTER_NODES: 'redis-1' }, 'REDIS_CLUSTER_NODES'],
    ['REDIS_CLUSTER_NODES bad port', { REDIS_CLUSTER_NODES: 'redis-1:70000' }, 'REDIS_CLUSTER_NODES'],
    ['REDIS_CLUSTER_NODES port 0', { REDIS_CLUSTER_NODES: 'redis-1:0' }, 'REDIS_CLUSTER_NODES'],
    ['REDIS_CLUSTER_NODES bare IPv6', { REDIS_CLUSTER_NODES: '::1:7000' }, 'REDIS_CLUSTER_NODES'],
    ['REDIS_CLUSTER_NODES bad IPv6', { REDIS_CLUSTER_NODES: '[zz]:7000' }, 'REDIS_CLUSTER_NODES'],
    ['REDIS_SENTINELS only commas', { REDIS_SENTINELS: ',,', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS'],
    ['REDIS_KEY_PREFIX with braces', { REDIS_KEY_PREFIX: '{bff}:' }, 'REDIS_KEY_PREFIX', /hash tags/],
    ['REDIS_KEY_PREFIX with space', { REDIS_KEY_PREFIX: 'b ff:' }, 'REDIS_KEY_PREFIX'],
    ['SESSION_SECRET short', { SESSION_SECRET: 'short' }, 'SESSION_SECRET', /openssl rand -base64 48/],
    ['SESSION_SECRET second short', { SESSION_SECRET: `${SECRET_A},short` }, 'SESSION_SECRET', /entry 2/],
    ['TOKEN_ENCRYPTION_KEY not base64', { TOKEN_ENCRYPTION_KEY: 'not base64!' }, 'TOKEN_ENCRYPTION_KEY'],
    [
      'TOKEN_ENCRYPTION_KEY 16 bytes',
      { TOKEN_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') },
      'TOKEN_ENCRYPTION_KEY',
      /32/,
    ],
    ['TOKEN_ENCRYPTION_KEY hex', { TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) }, 'TOKEN_ENCRYPTION_KEY', /32/],
    [
      'TOKEN_ENCRYPTION_KEY second bad',
      { TOKEN_ENCRYPTION_KEY: `${KEY_STD},${'A'.repeat(10)}` },
      'TOKEN_ENCRYPTION_KEY',
      /entry 2/,
    ],
    ['SESSION_IDLE_TIMEOUT bad', { SESSION_IDLE_TIMEOUT: '30 minutes' }, 'SESSION_IDLE_TIMEOUT'],
    ['SESSION_IDLE_TIMEOUT zero', { SESSION_IDLE_TIMEOUT: '0' }, 'SESSION_IDLE_TIMEOUT', /greater than 0/],
    ['SESSION_MAX_AGE bad', { SESSION_MAX_AGE: '1.5h' }, 'SESSION_MAX_AGE'],
    ['SESSION_MAX_AGE zero', { SESSION_MAX_AGE: '0s' }, 'SESSION_MAX_AGE'],
    ['TOKEN_REFRESH_SKEW negative', { TOKEN_REFRESH_SKEW: '-5s' }, 'TOKEN_REFRESH_SKEW'],
    ['COOKIE_SAMESITE none', { COOKIE_SAMESITE: 'none' }, 'COOKIE_SAMESITE', /strict, lax/],
    ['COOKIE_SAMESITE bad', { COOKIE_SAMESITE: 'yes' }, 'COOKIE_SAMESITE'],
    ['BFF_COOKIE_NAME invalid', { BFF_COOKIE_NAME: 'my cookie' }, 'BFF_COOKIE_NAME'],
    ['BFF_COOKIE_NAME with =', { BFF_COOKIE_NAME: 'a=b' }, 'BFF_COOKIE_NAME'],
    ['BFF_COOKIE_NAME __Host- on http', { BFF_COOKIE_NAME: '__Host-s' }, 'BFF_COOKIE_NAME', /https/],
    ['BFF_COOKIE_NAME __Secure- on http', { BFF_COOKIE_NAME: '__Secure-s' }, 'BFF_COOKIE_NAME', /https/],
    ['BFF_COOKIE_NAME = login cookie', { BFF_COOKIE_NAME: 'bff-login' }, 'BFF_COOKIE_NAME', /login cookie/],
    ['TRUST_PROXY spaces only', { TRUST_PROXY: ' , ' }, 'TRUST_PROXY'],
    ['TRUST_PROXY bad address', { TRUST_PROXY: 'loopback, 10.0.0.300' }, 'TRUST_PROXY'],
    ['TRUST_PROXY bad CIDR', { TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
    ['TRUST_PROXY word', { TRUST_PROXY: 'yes please' }, 'TRUST_PROXY'],
    ['API_TARGET bad', { API_TARGET: 'orders:8080' }, 'API_TARGET'],
    ['API_TARGET query', { API_TARGET: 'http://orders/?a=1' }, 'API_TARGET'],
    ['FRONTEND_URL bad', { FRONTEND_URL: 'localhost:5173' }, 'FRONTEND_URL'],
    ['FRONTEND_DIR missing', { FRONTEND_DIR: '/definitely/not/here' }, 'FRONTEND_DIR', /does not exist/],
    [
      'FRONTEND_DIR is a file',
      { FRONTEND_DIR: path.join(ROOT, 'package.json') },
      'FRONTEND_DIR',
      /not a directory/,
    ],
    [
      'FRONTEND_DIR and FRONTEND_URL',
      { FRONTEND_DIR: ROOT, FRONTEND_URL: 'http://localhost:5173' },
      'FRONTEND_DIR',
      /FRONTEND_URL/,
    ],
    ['METRICS_PORT zero', { METRICS_PORT: '0' }, 'METRICS_PORT'],
    ['METRICS_PORT same as PORT', { METRICS_PORT: '3000' }, 'METRICS_PORT', /PORT/],
    ['METRICS_PORT not a number', { METRICS_PORT: 'nine' }, 'METRICS_PORT'],
    ['LOG_LEVEL bad', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /trace/],
    ['BFF_CONFIG missing file', { BFF_CONFIG: '/definitely/not/here.yaml' }, 'BFF_CONFIG', /cannot be read/],
    [
      'production without redis',
      { NODE_ENV: 'production', SESSION_SECRET: SECRET_A },
      'REDIS_URL',
      /REDIS_SENTINELS/,
    ],
    [
      'production without SESSION_SECRET',
      { NODE_ENV: 'production', REDIS_URL: 'redis://r' },
      'SESSION_SECRET',
      /openssl/,
    ],
    [
      'production with http public URL',
      {
        NODE_ENV: 'production',
        REDIS_URL: 'redis://r',
        SESSION_SECRET: SECRET_A,
        BFF_PUBLIC_URL: 'http://app.example.com',
      },
      'BFF_PUBLIC_URL',
      /https/,
    ],
  ];

  it.each(cases)('%s', (_name, extra, variable, pattern) => {
    const error = errorOf({ ...BASE, ...extra });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).not.toMatch(/\n/);
    if (pattern) expect(error.message).toMatch(pattern);
  });

  const forbidden = [
    'state',
    'nonce',
    'code_challenge',
    'code_challenge_method',
    'redirect_uri',
    'response_type',
    'client_id',
    'scope',
    'STATE',
    'Redirect_Uri',
  ];
  it.each(forbidden)('OIDC_AUTH_PARAMS rejects %s', (param) => {
    const error = errorOf({ ...BASE, OIDC_AUTH_PARAMS: `audience=x&${param}=y` });
    expect(error.variable).toBe('OIDC_AUTH_PARAMS');
    expect(error.message).toContain('OIDC_AUTH_PARAMS');
    expect(error.message).toContain(param);
  });

  it('never echoes secrets or the Redis password', () => {
    expect(errorOf({ ...BASE, SESSION_SECRET: 'hunter2-short' }).message).not.toContain('hunter2');
    expect(errorOf({ ...BASE, REDIS_URL: 'http://:hunter2@r:6379' }).message).not.toContain('hunter2');
    expect(errorOf({ ...BASE, TOKEN_ENCRYPTION_KEY: 'hunter2' }).message).not.toContain('hunter2');
  });
});

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

describe('loadConfig with a BFF_CONFIG file', () => {
  const YAML_FILE = `
port: 4000
host: 127.0.0.1
publicUrl: https://app.example.com/
oidc:
  issuer: https://idp.example.com/realms/main
  clientId: from-file
  clientSecret: file-secret
  clientAuth: client_secret_post
  scopes: [openid, orders.read]
  authParams:
    audience: https://api.example.com
    resource: [urn:a, urn:b]
  clockTolerance: 10
  allowInsecureHttp: false
redis:
  clusterNodes: [r1:7000, 'r2:7000']
  keyPrefix: 'app:'
session:
  secret: [${SECRET_A}, ${SECRET_B}]
  idleTimeout: 15m
  maxAge: 8h
  cookieName: __Host-app
  sameSite: lax
tokens:
  encryptionKey: ${KEY_STD}
  refreshSkew: 1m
trustProxy: 1
metrics:
  port: 9200
logLevel: warn
routes:
  - prefix: /api/orders/
    target: http://orders:8080/v1/
    methods: [get, post]
    websocket: true
    timeout: 5s
  - prefix: /api/catalog
    target: http://catalog:8080
    token: client
    scopes: catalog.read catalog.list
    csrf: false
`;

  it('works from the YAML file alone', () => {
    const file = writeTemp('gateway.yaml', YAML_FILE);
    const config = loadConfig({ BFF_CONFIG: file });
    expect(config.port).toBe(4000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.publicUrl).toBe('https://app.example.com');
    expect(config.oidc).toEqual({
      issuer: 'https://idp.example.com/realms/main',
      clientId: 'from-file',
      clientSecret: 'file-secret',
      clientAuth: 'client_secret_post',
      scopes: ['openid', 'orders.read'],
      authParams: [
        ['audience', 'https://api.example.com'],
        ['resource', 'urn:a'],
        ['resource', 'urn:b'],
      ],
      clockToleranceSec: 10,
      allowInsecureHttp: false,
    });
    expect(config.redis).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'r1', port: 7000 },
        { host: 'r2', port: 7000 },
      ],
      keyPrefix: 'app:',
    });
    expect(config.session).toMatchObject({
      secrets: [SECRET_A, SECRET_B],
      secretsGenerated: false,
      idleTimeoutMs: 900_000,
      maxAgeMs: 28_800_000,
      cookieName: '__Host-app',
      sameSite: 'lax',
      secure: true,
    });
    expect(config.tokens.encryptionKeys).toEqual([Buffer.alloc(32, 0xfb)]);
    expect(config.tokens.refreshSkewMs).toBe(60_000);
    expect(config.trustProxy).toBe(1);
    expect(config.metrics.port).toBe(9200);
    expect(config.logLevel).toBe('warn');
    expect(config.routes).toEqual([
      {
        prefix: '/api/orders',
        target: 'http://orders:8080/v1',
        token: 'user',
        scopes: [],
        csrf: true,
        methods: ['GET', 'POST'],
        websocket: true,
        timeoutMs: 5_000,
      },
      {
        prefix: '/api/catalog',
        target: 'http://catalog:8080',
        token: 'client',
        scopes: ['catalog.read', 'catalog.list'],
        csrf: false,
        methods: undefined,
        websocket: false,
        timeoutMs: 30_000,
      },
    ]);
    expect(config.warnings).toEqual([]);
  });

  it('works from a JSON file alone, with string forms of lists', () => {
    const file = writeTemp(
      'gateway.json',
      JSON.stringify({
        oidc: {
          issuer: 'https://idp.example.com',
          clientId: 'json',
          scopes: 'openid email',
          authParams: 'prompt=consent',
        },
        redis: { sentinels: 's1:26379, s2:26379', sentinelName: 'mymaster' },
        session: { secret: `${SECRET_A},${SECRET_B}` },
        tokens: { encryptionKey: [KEY_URL] },
        trustProxy: ['loopback', '10.0.0.0/8'],
        routes: [{ prefix: '/data', target: 'https://data.example.com/', methods: 'GET, PUT' }],
      }),
    );
    const config = loadConfig({ BFF_CONFIG: file });
    expect(config.oidc.clientId).toBe('json');
    expect(config.oidc.clientAuth).toBe('none');
    expect(config.oidc.scopes).toEqual(['openid', 'email']);
    expect(config.oidc.authParams).toEqual([['prompt', 'consent']]);
    expect(config.redis).toMatchObject({ mode: 'sentinel', name: 'mymaster' });
    expect(config.session.secrets).toEqual([SECRET_A, SECRET_B]);
    expect(config.tokens.encryptionKeys).toEqual([Buffer.alloc(32, 0xfb)]);
    expect(config.trustProxy).toBe('loopback,10.0.0.0/8');
    expect(config.routes[0]).toMatchObject({
      prefix: '/data',
      target: 'https://data.example.com',
      methods: ['GET', 'PUT'],
    });
  });

  it('lets env win over the file', () => {
    const file = writeTemp('gateway.yaml', YAML_FILE);
    const config = loadConfig({
      BFF_CONFIG: file,
      PORT: '5000',
      OIDC_CLIENT_ID: 'from-env',
      OIDC_SCOPES: 'openid',
      REDIS_URL: 'redis://env-redis:6379',
      SESSION_SECRET: SECRET_B,
      LOG_LEVEL: 'error',
      TRUST_PROXY: 'false',
      COOKIE_SAMESITE: 'strict',
      API_TARGET: 'http://api:9000',
    });
    expect(config.port).toBe(5000);
    expect(config.oidc.clientId).toBe('from-env');
    expect(config.oidc.issuer).toBe('https://idp.example.com/realms/main'); // still from the file
    expect(config.oidc.scopes).toEqual(['openid']);
    // env picked the Redis mode, so the file's clusterNodes do not conflict
    expect(config.redis).toEqual({ mode: 'standalone', url: 'redis://env-redis:6379', keyPrefix: 'app:' });
    expect(config.session.secrets).toEqual([SECRET_B]);
    expect(config.logLevel).toBe('error');
    expect(config.trustProxy).toBe(false);
    expect(config.session.sameSite).toBe('strict');
    expect(config.routes.map((r) => r.prefix)).toEqual(['/api/orders', '/api/catalog', '/api']);
  });

  it('lets API_TARGET replace the file route /api in place', () => {
    const file = writeTemp(
      'gateway.yaml',
      `routes:\n  - { prefix: /api/, target: http://old, token: none }\n  - { prefix: /other, target: http://other }\n`,
    );
    const routes = loadConfig({ ...BASE, BFF_CONFIG: file, API_TARGET: 'http://new/base' }).routes;
    expect(routes.map((r) => [r.prefix, r.target, r.token])).toEqual([
      ['/api', 'http://new/base', 'user'],
      ['/other', 'http://other', 'user'],
    ]);
  });

  it('names the file key in errors from the file', () => {
    const file = writeTemp('gateway.yaml', 'oidc:\n  issuer: http://idp.example.com\n  clientId: x\n');
    const error = errorOf({ BFF_CONFIG: file });
    expect(error.variable).toBe('OIDC_ISSUER');
    expect(error.fileKey).toBe('oidc.issuer');
    expect(error.message).toContain(`OIDC_ISSUER (oidc.issuer in ${file})`);
  });

  it('mentions the file key when a required value is missing', () => {
    const file = writeTemp('gateway.yaml', 'port: 3000\n');
    expect(errorOf({ BFF_CONFIG: file }).message).toContain(`oidc.issuer in ${file}`);
  });

  it.each([
    ['a top-level typo', 'prot: 3000\n', 'prot'],
    ['a nested typo', 'oidc:\n  isuer: https://x\n', 'oidc.isuer'],
    ['a route typo', 'routes:\n  - prefix: /a\n    target: http://a\n    tokne: user\n', 'routes[0].tokne'],
  ])('rejects %s', (_name, text, key) => {
    const error = errorOf({ ...BASE, BFF_CONFIG: writeTemp('gateway.yaml', text) });
    expect(error.variable).toBe('BFF_CONFIG');
    expect(error.message).toContain(`unknown key ${key}`);
    expect(error.fileKey).toBe(key);
  });

  it.each([
    ['unparsable YAML', 'oidc: [unclosed\n', 'BFF_CONFIG', /not valid YAML/],
    ['unparsable JSON', '{"port": 3000,,}', 'BFF_CONFIG', /not valid YAML/],
    ['a list at the top', '- a\n- b\n', 'BFF_CONFIG', /mapping/],
    ['a scalar at the top', 'just text\n', 'BFF_CONFIG', /mapping/],
    ['a wrong type', 'port: [1]\n', 'PORT', /port\b.*must be a port number/],
    ['a boolean secret', 'oidc:\n  clientSecret: true\n', 'OIDC_CLIENT_SECRET', /quote/],
    [
      'a bad authParams value',
      'oidc:\n  authParams:\n    a: {b: c}\n',
      'OIDC_AUTH_PARAMS',
      /oidc\.authParams/,
    ],
    ['a section that is not a mapping', 'oidc: yes\n', 'BFF_CONFIG', /oidc/],
    ['routes not a list', 'routes: {prefix: /a}\n', 'BFF_CONFIG', /routes .*list/],
    ['a bad duration', 'session:\n  maxAge: 12 hours\n', 'SESSION_MAX_AGE', /session\.maxAge/],
    ['a duplicate key', 'port: 1\nport: 2\n', 'BFF_CONFIG', /not valid YAML/],
    [
      'two redis modes',
      'redis:\n  url: redis://a\n  sentinels: [s:1]\n  sentinelName: m\n',
      'REDIS_URL',
      /redis\.sentinels/,
    ],
    [
      'both frontends',
      `frontend:\n  dir: .\n  url: http://localhost:5173\n`,
      'FRONTEND_DIR',
      /frontend\.url/,
    ],
    ['forbidden authParams', 'oidc:\n  authParams:\n    Nonce: x\n', 'OIDC_AUTH_PARAMS', /Nonce/],
  ])('rejects %s', (_name, text, variable, pattern) => {
    const error = errorOf({ ...BASE, BFF_CONFIG: writeTemp('gateway.yaml', text) });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toMatch(/\n/);
  });

  it('accepts an empty file', () => {
    expect(loadConfig({ ...BASE, BFF_CONFIG: writeTemp('empty.yaml', '') }).port).toBe(3000);
  });

  it('treats null and empty values in the file as unset', () => {
    const file = writeTemp('gateway.yaml', 'port:\nhost: ""\noidc:\n  clientSecret:\nredis:\n');
    const config = loadConfig({ ...BASE, OIDC_CLIENT_SECRET: undefined, BFF_CONFIG: file });
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.oidc.clientAuth).toBe('none');
  });

  it('resolves a relative frontend dir against the file', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'public'));
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, 'frontend:\n  dir: ./public\n');
    expect(loadConfig({ ...BASE, BFF_CONFIG: file }).frontend.dir).toBe(path.join(dir, 'public'));
  });

  it('lets env pick the frontend as a whole', () => {
    const file = writeTemp('gateway.yaml', 'frontend:\n  dir: /definitely/not/here\n');
    expect(loadConfig({ ...BASE, BFF_CONFIG: file, FRONTEND_URL: 'http://localhost:5173' }).frontend).toEqual(
      {
        dir: undefined,
        url: 'http://localhost:5173',
      },
    );
  });

  it('loads config/gateway.example.yaml', () => {
    const config = loadConfig({ ...BASE, BFF_CONFIG: path.join(ROOT, 'config/gateway.example.yaml') });
    expect(config.routes.map((r) => [r.prefix, r.token])).toEqual([
      ['/api/orders', 'user'],
      ['/api/catalog', 'client'],
    ]);
    expect(config.routes[1]!.scopes).toEqual(['catalog.read']);
    expect(config.oidc.authParams).toEqual([['audience', 'https://api.example.com']]);
  });
});

describe('routes', () => {
  function routesFrom(yamlRoutes: string): ReturnType<typeof loadConfig>['routes'] {
    return loadConfig({ ...BASE, BFF_CONFIG: writeTemp('gateway.yaml', `routes:\n${yamlRoutes}`) }).routes;
  }

  function routeError(yamlRoutes: string): ConfigError {
    return errorOf({ ...BASE, BFF_CONFIG: writeTemp('gateway.yaml', `routes:\n${yamlRoutes}`) });
  }

  it('normalises prefix, target and methods', () => {
    const [route] = routesFrom(
      '  - prefix: /api/orders//\n    target: HTTP://Orders:8080/v1/./x/\n    methods: "get, Post get"\n    token: CLIENT\n',
    );
    expect(route).toMatchObject({
      prefix: '/api/orders',
      target: 'http://orders:8080/v1/x',
      methods: ['GET', 'POST'],
      token: 'client',
    });
  });

  it('keeps the root prefix', () => {
    expect(routesFrom('  - prefix: /\n    target: http://app\n')[0]!.prefix).toBe('/');
  });

  it.each([
    ['prefix missing', '  - target: http://a\n', 'routes[0].prefix', /required/],
    ['target missing', '  - prefix: /a\n', 'routes[0].target', /required/],
    ['prefix without slash', '  - prefix: api\n    target: http://a\n', 'routes[0].prefix', /start with/],
    ['prefix with ..', '  - prefix: /api/../x\n    target: http://a\n', 'routes[0].prefix', /\.\./],
    ['prefix with .', '  - prefix: /api/./x\n    target: http://a\n', 'routes[0].prefix', /\./],
    ['prefix with %', '  - prefix: /api%2fx\n    target: http://a\n', 'routes[0].prefix', /%/],
    ['prefix with //', '  - prefix: /api//x\n    target: http://a\n', 'routes[0].prefix', /empty segment/],
    ['prefix /auth', '  - prefix: /auth\n    target: http://a\n', 'routes[0].prefix', /\/auth/],
    ['prefix under /auth', '  - prefix: /Auth/x\n    target: http://a\n', 'routes[0].prefix', /\/auth/],
    ['prefix with a query', '  - prefix: /a?b\n    target: http://a\n', 'routes[0].prefix', /\?/],
    [
      'duplicate prefix',
      '  - prefix: /a\n    target: http://a\n  - prefix: /a/\n    target: http://b\n',
      'routes[1].prefix',
      /routes\[0\]/,
    ],
    ['target relative', '  - prefix: /a\n    target: /local\n', 'routes[0].target', /URL/],
    ['target ftp', '  - prefix: /a\n    target: ftp://a\n', 'routes[0].target', /http/],
    ['target with query', '  - prefix: /a\n    target: http://a/?x=1\n', 'routes[0].target', /query/],
    ['target with fragment', '  - prefix: /a\n    target: http://a/#x\n', 'routes[0].target', /fragment/],
    [
      'bad token',
      '  - prefix: /a\n    target: http://a\n    token: service\n',
      'routes[0].token',
      /user, client/,
    ],
    [
      'bad method',
      '  - prefix: /a\n    target: http://a\n    methods: ["GE T"]\n',
      'routes[0].methods',
      /method/,
    ],
    [
      'empty methods',
      '  - prefix: /a\n    target: http://a\n    methods: []\n',
      'routes[0].methods',
      /at least one/,
    ],
    [
      'bad csrf',
      '  - prefix: /a\n    target: http://a\n    csrf: sometimes\n',
      'routes[0].csrf',
      /true or false/,
    ],
    [
      'bad websocket',
      '  - prefix: /a\n    target: http://a\n    websocket: [x]\n',
      'routes[0].websocket',
      /true or false/,
    ],
    [
      'bad timeout',
      '  - prefix: /a\n    target: http://a\n    timeout: 30 s\n',
      'routes[0].timeout',
      /duration/,
    ],
    [
      'zero timeout',
      '  - prefix: /a\n    target: http://a\n    timeout: 0\n',
      'routes[0].timeout',
      /greater than 0/,
    ],
    ['huge timeout', '  - prefix: /a\n    target: http://a\n    timeout: 30d\n', 'routes[0].timeout', /24d/],
    [
      'bad scope',
      '  - prefix: /a\n    target: http://a\n    scopes: ["a\\"b"]\n',
      'routes[0].scopes',
      /scope/,
    ],
    ['not a mapping', '  - /a\n', 'routes[0]', /mapping/],
  ])('rejects %s', (_name, yamlRoutes, key, pattern) => {
    const error = routeError(yamlRoutes);
    expect(error.variable).toBe('BFF_CONFIG');
    expect(error.message).toContain(key);
    expect(error.message).toContain('(in ');
    expect(error.message).toMatch(pattern);
  });
});

describe('ID-token algorithms and the client key (issue 9)', () => {
  it('OIDC_ID_TOKEN_ALGS: a comma-separated list, deduplicated; unset by default', () => {
    expect(load().oidc.idTokenAlgs).toBeUndefined();
    expect(load({ OIDC_ID_TOKEN_ALGS: ' PS256, ES256,PS256 ' }).oidc.idTokenAlgs).toEqual(['PS256', 'ES256']);
  });

  it('oidc.idTokenAlgs from the file, as a list', () => {
    const file = writeTemp('algs.yaml', 'oidc:\n  idTokenAlgs: [RS256, EdDSA]\n');
    expect(load({ BFF_CONFIG: file }).oidc.idTokenAlgs).toEqual(['RS256', 'EdDSA']);
  });

  it('the default allowed algorithms are what the IdP advertises without none and HS*, else RS256', () => {
    expect(allowedIdTokenAlgs(undefined, ['none', 'HS256', 'HS512', 'RS256', 'ES256'])).toEqual([
      'RS256',
      'ES256',
    ]);
    expect(allowedIdTokenAlgs(undefined, undefined)).toEqual(['RS256']);
    expect(allowedIdTokenAlgs(['PS256'], ['RS256'])).toEqual(['PS256']);
  });

  function keyFile(name: string, text: string): string {
    return writeTemp(name, text);
  }

  it('a key makes private_key_jwt the default; alg follows the key; kid from the JWK, the env, or the thumbprint', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = keyFile('rsa.pem', rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const viaPem = load({ OIDC_CLIENT_SECRET: undefined, OIDC_CLIENT_PRIVATE_KEY: pem }).oidc;
    expect(viaPem.clientAuth).toBe('private_key_jwt');
    expect(viaPem.clientPrivateKey?.alg).toBe('RS256');
    expect(viaPem.clientPrivateKey?.kid).toBe(await calculateJwkThumbprint(await exportJWK(rsa.publicKey)));
    // The key object's material stays out of JSON (and so out of any log of the config).
    expect(JSON.stringify(viaPem)).not.toContain('PRIVATE');
    expect(JSON.stringify(viaPem)).not.toContain(String(rsa.privateKey.export({ format: 'jwk' }).d));

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = keyFile('ec.jwk', JSON.stringify({ ...ec.privateKey.export({ format: 'jwk' }), kid: 'k1' }));
    expect(load({ OIDC_CLIENT_PRIVATE_KEY: jwk }).oidc.clientPrivateKey).toMatchObject({
      alg: 'ES256',
      kid: 'k1',
    });
    expect(load({ OIDC_CLIENT_PRIVATE_KEY: jwk, OIDC_CLIENT_KEY_ID: 'k2' }).oidc.clientPrivateKey?.kid).toBe(
      'k2',
    );

    const ed = generateKeyPairSync('ed25519');
    const edPem = keyFile('ed.pem', ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    expect(load({ OIDC_CLIENT_PRIVATE_KEY: edPem }).oidc.clientPrivateKey?.alg).toBe('EdDSA');

    // PS256: an RSA JWK that says so (an RSASSA-PSS-only PEM is refused with that hint, below).
    const psJwk = keyFile(
      'ps.jwk',
      JSON.stringify({ ...rsa.privateKey.export({ format: 'jwk' }), alg: 'PS256' }),
    );
    expect(load({ OIDC_CLIENT_PRIVATE_KEY: psJwk }).oidc.clientPrivateKey?.alg).toBe('PS256');

    // An explicit secret method keeps the secret even with a key configured.
    expect(
      load({ OIDC_CLIENT_PRIVATE_KEY: pem, OIDC_CLIENT_AUTH: 'client_secret_basic' }).oidc,
    ).toMatchObject({
      clientAuth: 'client_secret_basic',
      clientPrivateKey: undefined,
    });
  });

  it.each([
    ['a missing file', () => path.join(tempDir(), 'nope.pem'), /cannot be read \(ENOENT\)/],
    ['garbage', () => writeTemp('junk.pem', 'not a key'), /does not hold a private key/],
    [
      'a public key',
      () =>
        writeTemp(
          'pub.pem',
          generateKeyPairSync('ec', { namedCurve: 'P-256' })
            .publicKey.export({ format: 'pem', type: 'spki' })
            .toString(),
        ),
      /does not hold a private key/,
    ],
    ['a broken JWK', () => writeTemp('bad.jwk', '{"kty":'), /not a valid JWK/],
    [
      'an RSASSA-PSS-only PEM',
      () =>
        writeTemp(
          'pss.pem',
          generateKeyPairSync('rsa-pss', { modulusLength: 2048 })
            .privateKey.export({ format: 'pem', type: 'pkcs8' })
            .toString(),
        ),
      /"alg": "PS256"/,
    ],
    [
      'a JWK whose alg does not fit',
      () =>
        writeTemp(
          'rs.jwk',
          JSON.stringify({
            ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
            alg: 'ES256',
          }),
        ),
      /does not fit/,
    ],
  ])('a key file holding %s stops start-up naming OIDC_CLIENT_PRIVATE_KEY', (_name, file, pattern) => {
    const error = errorOf({ ...BASE, OIDC_CLIENT_PRIVATE_KEY: file() });
    expect(error.variable).toBe('OIDC_CLIENT_PRIVATE_KEY');
    expect(error.message).toMatch(/^OIDC_CLIENT_PRIVATE_KEY /);
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain('\n');
  });
});

describe('RATE_LIMIT_LOGIN (issue 9)', () => {
  it('60 by default; a whole number; 0 turns it off', () => {
    expect(load().rateLimit.login).toBe(60);
    expect(load({ RATE_LIMIT_LOGIN: ' 120 ' }).rateLimit.login).toBe(120);
    expect(load({ RATE_LIMIT_LOGIN: '0' }).rateLimit.login).toBe(0);
  });

  it('rateLimit.login from the file; the env wins', () => {
    const file = writeTemp('limit.yaml', 'rateLimit:\n  login: 10\n');
    expect(load({ BFF_CONFIG: file }).rateLimit.login).toBe(10);
    expect(load({ BFF_CONFIG: file, RATE_LIMIT_LOGIN: '7' }).rateLimit.login).toBe(7);
  });

  it.each(['-1', '1.5', 'ten', '60/min', '1e3', '2000000'])(
    '%s stops start-up naming RATE_LIMIT_LOGIN',
    (value) => {
      const error = errorOf({ ...BASE, RATE_LIMIT_LOGIN: value });
      expect(error.variable).toBe('RATE_LIMIT_LOGIN');
      expect(error.message).toMatch(/^RATE_LIMIT_LOGIN must be a whole number of requests per minute/);
    },
  );

  it('a bad file value names the variable and the file key; an unknown key under rateLimit is refused', () => {
    const bad = writeTemp('bad-limit.yaml', 'rateLimit:\n  login: -5\n');
    const error = errorOf({ ...BASE, BFF_CONFIG: bad });
    expect(error.variable).toBe('RATE_LIMIT_LOGIN');
    expect(error.fileKey).toBe('rateLimit.login');
    expect(error.message).toContain('rateLimit.login in');
    const typo = writeTemp('typo-limit.yaml', 'rateLimit:\n  logins: 5\n');
    expect(errorOf({ ...BASE, BFF_CONFIG: typo }).message).toContain('unknown key rateLimit.logins');
  });
});
