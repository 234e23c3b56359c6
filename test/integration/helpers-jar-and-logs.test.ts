/**
 * Self-test of the test helpers against the real things (redis-server, oidc-provider over HTTP),
 * without a gateway: the cookie jar (Set-Cookie parsing, hosts, paths, deletions) and the logs
 * helper (captured pino output).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CookieJar, getRaw, getSetCookie, parseSetCookie } from '../helpers/cookie-jar.js';
import { captureLogs } from '../helpers/logs.js';

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
