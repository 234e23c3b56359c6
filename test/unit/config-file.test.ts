/** loadConfig: the BFF_CONFIG file (split from the former config.test.ts by section). */
import path from 'node:path';
import { describe, it, expect } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { ROOT, SECRET_A, SECRET_B, KEY_STD, KEY_URL, BASE, errorOf, writeTemp } from '../helpers/config.js';

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
  par: true
  dpop: true
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
      par: true,
      dpop: true,
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
