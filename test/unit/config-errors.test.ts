/** loadConfig: each bad value names its variable (split from the former config.test.ts by section). */
import path from 'node:path';
import { describe, it, expect } from 'vitest';

import { ROOT, SECRET_A, KEY_STD, BASE, errorOf, type Env } from '../helpers/config.js';

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
