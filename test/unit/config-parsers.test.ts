/** The pure value parsers behind the settings table: what each accepts, and that it refuses with Invalid. */
import { describe, expect, it } from 'vitest';

import { Invalid } from '../../src/config/invalid.js';
import * as p from '../../src/config/parsers.js';
import * as net from '../../src/config/parsers-net.js';
import { parsePrefix, routeDefaults } from '../../src/config/routes.js';

/** The Invalid message a parser throws (fails the test if it returns or throws something else). */
function invalid(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    expect((err as Error).message).not.toMatch(/\n/);
    return (err as Error).message;
  }
  throw new Error('expected Invalid');
}

describe('ports, booleans, durations', () => {
  it('parsePort: 0 only where allowed, numbers and digit strings only', () => {
    expect(p.parsePort('0', 0)).toBe(0);
    expect(p.parsePort(65535, 1)).toBe(65535);
    expect(p.parsePort('8080', 1)).toBe(8080);
    for (const bad of ['0', '-1', '65536', '80.5', ' 80', 'http', '0x50']) {
      expect(invalid(() => p.parsePort(bad, 1))).toMatch(/^must be a port number 1-65535/);
    }
    expect(invalid(() => p.parsePort(80.5, 0))).toMatch(/0-65535 \(got 80\.5\)/);
  });

  it('parseBoolean: true/false, 1/0, yes/no in any case; YAML booleans as they are', () => {
    for (const yes of [true, 'true', 'TRUE', '1', 1, 'yes', ' Yes ']) expect(p.parseBoolean(yes)).toBe(true);
    for (const no of [false, 'false', '0', 0, 'no', 'No']) expect(p.parseBoolean(no)).toBe(false);
    expect(invalid(() => p.parseBoolean('maybe'))).toMatch(/true or false \(got "maybe"/);
    expect(invalid(() => p.parseBoolean(2))).toMatch(/true or false/);
  });

  it('parseDurationMs: units, limits and their messages', () => {
    expect(p.parseDurationMs('15m', { min: 1 })).toBe(900_000);
    expect(p.parseDurationMs(90, { min: 1 })).toBe(90_000);
    expect(p.parseDurationMs('0', { min: 0 })).toBe(0);
    expect(invalid(() => p.parseDurationMs('0', { min: 1 }))).toMatch(/greater than 0/);
    expect(invalid(() => p.parseDurationMs('6m', { min: 0, max: 300_000, maxText: '5m' }))).toMatch(
      /at most 5m \(got "6m"\)/,
    );
    expect(invalid(() => p.parseDurationMs('31s', { min: 0, max: 30_000 }))).toMatch(/at most 30s/);
    expect(invalid(() => p.parseDurationMs('10ms', { min: 0 }))).toMatch(/duration such as 90, 90s/);
  });
});

describe('lists and words', () => {
  it('toList: strings split, lists kept, entries trimmed, empty ones dropped', () => {
    expect(p.toList(' a, b ,,c ', /,/)).toEqual(['a', 'b', 'c']);
    expect(p.toList([' a ', '', 'b'], /,/)).toEqual(['a', 'b']);
    expect(p.toList('a b\tc', /\s+/)).toEqual(['a', 'b', 'c']);
  });

  it('parseScopes: deduplicated in order; openid required only for the login', () => {
    expect(p.parseScopes('email openid email', true)).toEqual(['email', 'openid']);
    expect(p.parseScopes(['catalog.read'], false)).toEqual(['catalog.read']);
    expect(p.parseScopes('', false)).toEqual([]);
    expect(invalid(() => p.parseScopes('profile', true))).toMatch(/must include openid/);
    expect(invalid(() => p.parseScopes('openid "x"', true))).toMatch(/invalid scope/);
    expect(invalid(() => p.parseScopes(['a\\b'], false))).toMatch(/invalid scope/);
  });

  it('parseAuthParams: URL-encoded or a mapping, in order, protocol parameters refused', () => {
    expect(p.parseAuthParams('a=1&b=x%20y&a=2')).toEqual([
      ['a', '1'],
      ['b', 'x y'],
      ['a', '2'],
    ]);
    expect(p.parseAuthParams({ max_age: 0, resource: ['urn:a', 'urn:b'], flag: true })).toEqual([
      ['max_age', '0'],
      ['resource', 'urn:a'],
      ['resource', 'urn:b'],
      ['flag', 'true'],
    ]);
    for (const name of p.GATEWAY_AUTH_PARAMS) {
      expect(invalid(() => p.parseAuthParams({ [name.toUpperCase()]: 'x' }))).toContain(
        `must not set ${name.toUpperCase()}`,
      );
    }
    expect(invalid(() => p.parseAuthParams('=x'))).toMatch(/without a name/);
  });

  it('parseSecrets: 32+ characters each, never echoed', () => {
    const long = 's'.repeat(32);
    expect(p.parseSecrets(`${long}, ${long}x`)).toEqual([long, `${long}x`]);
    expect(p.parseSecrets([long])).toEqual([long]);
    expect(invalid(() => p.parseSecrets(' , '))).toMatch(/at least one secret/);
    const message = invalid(() => p.parseSecrets(`${long},hunter2`));
    expect(message).toMatch(/entry 2 has 7 characters/);
    expect(message).not.toContain('hunter2');
  });

  it('parseEncryptionKeys: 32-byte standard or url-safe base64, never echoed', () => {
    const key = Buffer.alloc(32, 0xfb);
    expect(p.parseEncryptionKeys(`${key.toString('base64')},${key.toString('base64url')}`)).toEqual([
      key,
      key,
    ]);
    expect(invalid(() => p.parseEncryptionKeys('hunter2!'))).toMatch(/^entry 1 is not base64/);
    expect(invalid(() => p.parseEncryptionKeys('hunter2!'))).not.toContain('hunter2');
    expect(invalid(() => p.parseEncryptionKeys([Buffer.alloc(16).toString('base64')]))).toMatch(/16 bytes/);
    expect(invalid(() => p.parseEncryptionKeys(''))).toMatch(/at least one key/);
  });

  it('parseMethods: upper-cased, deduplicated, tokens only, not empty', () => {
    expect(p.parseMethods('get, post GET')).toEqual(['GET', 'POST']);
    expect(p.parseMethods(['patch'])).toEqual(['PATCH']);
    expect(invalid(() => p.parseMethods([]))).toMatch(/at least one method/);
    expect(invalid(() => p.parseMethods(['GE(T']))).toMatch(/invalid HTTP method "GE\(T"/);
  });

  it('oneOf, requireString, parseKeyPrefix, parseCookieName', () => {
    expect(p.oneOf('LAX', ['strict', 'lax'] as const)).toBe('lax');
    expect(invalid(() => p.oneOf('none', ['strict', 'lax'] as const))).toBe(
      'must be one of strict, lax (got "none")',
    );
    expect(p.requireString('host.example', 'a host')).toBe('host.example');
    expect(invalid(() => p.requireString('a b', 'a host'))).toMatch(/a host without spaces/);
    expect(p.parseKeyPrefix('app1:')).toBe('app1:');
    expect(invalid(() => p.parseKeyPrefix('{bff}:'))).toMatch(/hash tags/);
    expect(p.parseCookieName('__Host-s')).toBe('__Host-s');
    expect(invalid(() => p.parseCookieName('a=b'))).toMatch(/valid cookie name/);
  });

  it('show: quotes and shortens what a message echoes', () => {
    expect(p.show('x')).toBe('"x"');
    expect(p.show('y'.repeat(200))).toHaveLength(80);
  });
});

describe('URLs, host:port lists and trust proxy', () => {
  it('parseHttpUrl / parseTarget / parseOrigin', () => {
    expect(net.parseTarget('HTTP://Api:8080/v1//')).toBe('http://api:8080/v1');
    expect(net.parseTarget('https://api.example.com/')).toBe('https://api.example.com');
    expect(net.parseOrigin('https://APP.example.com:443/').origin).toBe('https://app.example.com');
    expect(invalid(() => net.parseOrigin('https://app.example.com/x'))).toMatch(/origin only/);
    expect(invalid(() => net.parseHttpUrl('ws://a'))).toMatch(/http:\/\/ or https:\/\//);
    expect(invalid(() => net.parseHttpUrl('http://a/?'))).toMatch(/query or fragment/);
    expect(invalid(() => net.parseHttpUrl('http://u:hunter2@a/'))).toBe(
      'must not contain a user name or password',
    );
    expect(invalid(() => net.parseHttpUrl('a.example'))).toMatch(/absolute http/);
  });

  it('parseRedisUrl: redis:// or rediss:// with a host; the password is never echoed', () => {
    expect(net.parseRedisUrl('rediss://:pw@r:6380/1')).toBe('rediss://:pw@r:6380/1');
    expect(invalid(() => net.parseRedisUrl('http://:hunter2@r'))).toBe(
      'must start with redis:// or rediss:// (got http://…)',
    );
    expect(invalid(() => net.parseRedisUrl('redis://'))).toMatch(/must name a host/);
  });

  it('isLoopbackHost', () => {
    for (const host of ['localhost', '127.0.0.1', '127.9.9.9', '[::1]', 'LOCALHOST']) {
      expect(net.isLoopbackHost(host)).toBe(true);
    }
    for (const host of ['10.0.0.1', 'localhost.example', '[::2]', '128.0.0.1'])
      expect(net.isLoopbackHost(host)).toBe(false);
  });

  it('parseHostPort(s): names, IPv4, bracketed IPv6; a list or a separated string', () => {
    expect(net.parseHostPorts('a:1, [::1]:7000\t10.0.0.1:65535')).toEqual([
      { host: 'a', port: 1 },
      { host: '::1', port: 7000 },
      { host: '10.0.0.1', port: 65535 },
    ]);
    expect(net.parseHostPorts(['b:2'])).toEqual([{ host: 'b', port: 2 }]);
    expect(invalid(() => net.parseHostPort('a'))).toMatch(/expected host:port/);
    expect(invalid(() => net.parseHostPort('::1:7000'))).toMatch(/expected host:port/);
    expect(invalid(() => net.parseHostPort('[zz]:1'))).toMatch(/expected host:port/);
    expect(invalid(() => net.parseHostPort('a:0'))).toMatch(/not 1-65535/);
    expect(invalid(() => net.parseHostPorts(', ,'))).toMatch(/at least one/);
  });

  it('parseTrustProxy: booleans, hop counts, named ranges, IPs and CIDRs', () => {
    expect(net.parseTrustProxy(true)).toBe(true);
    expect(net.parseTrustProxy('FALSE')).toBe(false);
    expect(net.parseTrustProxy(2)).toBe(2);
    expect(net.parseTrustProxy('3')).toBe(3);
    expect(net.parseTrustProxy(['loopback', ' 10.0.0.0/8 '])).toBe('loopback,10.0.0.0/8');
    expect(net.parseTrustProxy('fd00::/8, 192.168.1.1/255.255.255.0')).toBe(
      'fd00::/8,192.168.1.1/255.255.255.0',
    );
    expect(invalid(() => net.parseTrustProxy(-1))).toMatch(/hop count/);
    expect(invalid(() => net.parseTrustProxy(1.5))).toMatch(/hop count/);
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.1/ffff::', '1.2.3.4/8/9', 'yes', ' , ']) {
      expect(invalid(() => net.parseTrustProxy(bad))).toMatch(/comma-separated loopback/);
    }
  });
});

describe('routes', () => {
  it('parsePrefix: normalised, plain, outside /auth', () => {
    expect(parsePrefix('/api/orders//')).toBe('/api/orders');
    expect(parsePrefix('/')).toBe('/');
    expect(parsePrefix('/authority')).toBe('/authority');
    for (const [bad, why] of [
      ['api', /start with/],
      ['/a%2f', /%/],
      ['/a b', /plain path/],
      ['/a//b', /empty segment/],
      ['/a/../b', /\.\./],
      ['/AUTH/x', /\/auth/],
    ] as const) {
      expect(invalid(() => parsePrefix(bad))).toMatch(why);
    }
  });

  it('routeDefaults: the one place route defaults live', () => {
    expect(routeDefaults()).toEqual({
      token: 'user',
      scopes: [],
      csrf: true,
      methods: undefined,
      websocket: false,
      timeoutMs: 30_000,
    });
  });
});
