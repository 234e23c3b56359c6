/** loadConfig: parseDuration and defaults (split from the former config.test.ts by section). */
import { describe, it, expect } from 'vitest';

import { parseDuration } from '../../src/config/index.js';
import { SECRET_A, load } from '../helpers/config.js';

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
