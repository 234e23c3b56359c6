/**
 * Every configuration problem at once (issue 10): several bad settings give several problems, one
 * line each, in the order the settings are read; checks that need a bad value are skipped rather
 * than reported as a second, misleading problem. And the settings table agrees with itself.
 */
import { describe, expect, it } from 'vitest';

import { ConfigError, ENV_NAMES, loadConfig, SETTINGS } from '../../src/config/index.js';
import { BY_FILE_KEY } from '../../src/config/settings.js';
import { BASE, errorOf, load, writeTemp, type Env } from '../helpers/config.js';

const variables = (env: Env): string[] => errorOf(env).problems.map((p) => p.variable);

describe('all problems at once', () => {
  it('reports each bad setting on its own line, in table order', () => {
    const error = errorOf({
      ...BASE,
      OIDC_CLIENT_ID: undefined,
      LOG_LEVEL: 'loud',
      SESSION_IDLE_TIMEOUT: 'ten minutes',
      REDIS_URL: 'http://:hunter2@r:6379',
      TRUST_PROXY: 'yes please',
    });
    expect(error.problems.map((p) => p.variable)).toEqual([
      'OIDC_CLIENT_ID',
      'REDIS_URL',
      'SESSION_IDLE_TIMEOUT',
      'TRUST_PROXY',
      'LOG_LEVEL',
    ]);
    for (const problem of error.problems) {
      expect(problem.message.startsWith(problem.variable)).toBe(true);
      expect(problem.message).not.toMatch(/[\r\n]/);
    }
    // The first problem is also what callers that read one see; the message holds them all on one line.
    expect(error.variable).toBe('OIDC_CLIENT_ID');
    expect(error.message).toBe(error.problems.map((p) => p.message).join('; '));
    expect(error.message).not.toContain('hunter2');
  });

  it('skips checks that need a bad value: PORT feeds the default public URL and the METRICS_PORT check', () => {
    expect(variables({ ...BASE, PORT: 'http', METRICS_PORT: '3000' })).toEqual(['PORT']);
    // With a good PORT, both checks run.
    expect(variables({ ...BASE, PORT: '3000', METRICS_PORT: '3000' })).toEqual(['METRICS_PORT']);
    expect(load({ PORT: '3001', METRICS_PORT: '3000' }).metrics.port).toBe(3000);
  });

  it('skips the https check of the issuer while OIDC_ALLOW_INSECURE_HTTP is bad', () => {
    const env = { ...BASE, OIDC_ISSUER: 'http://idp.internal', OIDC_ALLOW_INSECURE_HTTP: 'maybe' };
    expect(variables(env)).toEqual(['OIDC_ALLOW_INSECURE_HTTP']);
    expect(variables({ ...env, OIDC_ALLOW_INSECURE_HTTP: 'false' })).toEqual(['OIDC_ISSUER']);
  });

  it('skips the cookie-name checks while the public URL is bad, and runs them when it is good', () => {
    const env = { ...BASE, BFF_PUBLIC_URL: 'https://app.example.com/path', BFF_COOKIE_NAME: '__Host-x' };
    expect(variables(env)).toEqual(['BFF_PUBLIC_URL']);
    expect(variables({ ...env, BFF_PUBLIC_URL: 'http://localhost:3000' })).toEqual(['BFF_COOKIE_NAME']);
  });

  it('in production, reports every missing requirement together', () => {
    expect(variables({ NODE_ENV: 'production', BFF_PUBLIC_URL: 'http://app.example.com' })).toEqual([
      'BFF_PUBLIC_URL',
      'OIDC_ISSUER',
      'OIDC_CLIENT_ID',
      'REDIS_URL',
      'SESSION_SECRET',
    ]);
  });

  it('a file with several shape problems reports each, and does not add "required" for a value it refused', () => {
    const file = writeTemp(
      'bad.yaml',
      [
        'prot: 1',
        'oidc:',
        '  issuer: [https://x]',
        '  clientId: 5',
        'redis: yes',
        'routes:',
        '  - /a',
        '  - { prefix: b, target: ftp://x }',
        '  - { prefix: /c, target: http://c }',
        '  - { prefix: /c/, target: http://d }',
        '',
      ].join('\n'),
    );
    const error = errorOf({ BFF_CONFIG: file, NODE_ENV: 'production', SESSION_SECRET: 's'.repeat(40) });
    expect(error.problems.map((p) => [p.variable, p.fileKey])).toEqual([
      ['OIDC_ISSUER', 'oidc.issuer'],
      ['OIDC_CLIENT_ID', 'oidc.clientId'],
      ['BFF_CONFIG', 'redis'],
      ['BFF_CONFIG', 'routes[0]'],
      ['BFF_CONFIG', 'prot'],
      ['BFF_CONFIG', 'routes[1].prefix'],
      ['BFF_CONFIG', 'routes[1].target'],
      ['BFF_CONFIG', 'routes[3].prefix'],
    ]);
    const text = error.problems.map((p) => p.message).join('\n');
    expect(text).not.toMatch(/is required/); // neither OIDC_ISSUER nor REDIS_URL "required"
    expect(text).toContain(`OIDC_ISSUER (oidc.issuer in ${file}) must be a URL string`);
    expect(text).toContain(`routes[3].prefix (in ${file}) repeats routes[2].prefix /c`);
  });

  it('a file that cannot be read or parsed is one problem on its own', () => {
    expect(variables({ ...BASE, PORT: 'x', BFF_CONFIG: '/definitely/not/here.yaml' })).toEqual([
      'BFF_CONFIG',
    ]);
    expect(variables({ ...BASE, PORT: 'x', BFF_CONFIG: writeTemp('list.yaml', '- a\n') })).toEqual([
      'BFF_CONFIG',
    ]);
  });

  it('ConfigError needs at least one problem and keeps each message on one line', () => {
    expect(() => new ConfigError([])).toThrow(TypeError);
    const error = new ConfigError([{ variable: 'X', message: 'X is\n  bad', fileKey: undefined }]);
    expect(error.problems[0]!.message).toBe('X is bad');
  });
});

describe('the settings table', () => {
  it('names each env variable and each file key once', () => {
    expect(new Set(ENV_NAMES).size).toBe(ENV_NAMES.length);
    const keys = ENV_NAMES.flatMap((name) => SETTINGS[name].key ?? []);
    expect(new Set(keys).size).toBe(keys.length);
    expect(BY_FILE_KEY.size).toBe(keys.length);
    for (const name of ENV_NAMES) {
      const { default: text, defaultDoc } = SETTINGS[name];
      // Exactly one of the two says what happens when the setting is left out.
      expect(text === undefined, name).not.toBe(defaultDoc === undefined);
    }
  });

  it('every written default parses with its own parser into the value the loaded config holds', () => {
    const config = load({ OIDC_CLIENT_SECRET: undefined });
    const parsed = (name: keyof typeof SETTINGS): unknown =>
      (SETTINGS[name].parse as (value: string) => unknown)(SETTINGS[name].default!);
    expect(parsed('PORT')).toBe(config.port);
    expect(parsed('HOST')).toBe(config.host);
    expect(parsed('OIDC_SCOPES')).toEqual(config.oidc.scopes);
    expect(parsed('OIDC_CLOCK_TOLERANCE')).toBe(config.oidc.clockToleranceSec * 1000);
    expect(parsed('REDIS_KEY_PREFIX')).toBe(config.redis.keyPrefix);
    expect(parsed('SESSION_IDLE_TIMEOUT')).toBe(config.session.idleTimeoutMs);
    expect(parsed('SESSION_MAX_AGE')).toBe(config.session.maxAgeMs);
    expect(parsed('TOKEN_REFRESH_SKEW')).toBe(config.tokens.refreshSkewMs);
    expect(parsed('COOKIE_SAMESITE')).toBe(config.session.sameSite);
    expect(parsed('RATE_LIMIT_LOGIN')).toBe(config.rateLimit.login);
    expect(parsed('TRUST_PROXY')).toBe(config.trustProxy);
    expect(parsed('LOG_LEVEL')).toBe(config.logLevel);
  });

  it('the API_TARGET route takes the route defaults', () => {
    const [route] = load({ API_TARGET: 'http://api:8080' }).routes;
    const [fromFile] = loadConfig({
      ...BASE,
      BFF_CONFIG: writeTemp('r.yaml', 'routes:\n  - { prefix: /api, target: http://api:8080 }\n'),
    }).routes;
    expect(route).toEqual(fromFile);
  });
});
