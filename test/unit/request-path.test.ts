import { describe, expect, it } from 'vitest';
import { parseRequestTarget } from '../../src/http/request-path.js';

describe('parseRequestTarget', () => {
  it.each([
    '/',
    '/api/orders',
    '/api/orders/1',
    '/api/orders/',
    '/a.b/c..d',
    '/api/%20space',
    '/auth/callback',
  ])('accepts %s unchanged', (p) => {
    expect(parseRequestTarget(p)).toEqual({ path: p, query: '' });
  });

  it.each([
    '/api/../admin',
    '/api/./x',
    '/api/..',
    '/api/.',
    '/api/%2e%2e/admin',
    '/api/%2E%2E/admin',
    '/api/.%2e/admin',
    '/api/%2e/x',
    '/api/a%2fb',
    '/api/a%2Fb',
    '/api/a%5cb',
    '/api/a\\b',
    '/api/a%00',
    '/api/%zz',
    '/api/%',
    '/api//admin/delete',
    '//api/x',
    '/api/orders/..;/x',
    '/api/orders;jsessionid=1/x',
    '/api/orders/%3b/x',
    '/api/orders/%3B',
    '/api/x;',
    'http://evil.example/api/x',
    '*',
    '',
  ])('refuses %s', (p) => {
    expect(parseRequestTarget(p)).toBeUndefined();
  });

  it('decodes percent-encoded unreserved characters and nothing else', () => {
    expect(parseRequestTarget('/api/%61dmin')?.path).toBe('/api/admin');
    expect(parseRequestTarget('/api/%41%5A%61%7a%30%39%2D%2e%5F%7E')?.path).toBe('/api/AZaz09-._~');
    expect(parseRequestTarget('/api/%20%C3%A9%25%2b')?.path).toBe('/api/%20%C3%A9%25%2b');
    // A decoded escape never builds a new one: %2561 stays %2561.
    expect(parseRequestTarget('/api/%2561')?.path).toBe('/api/%2561');
  });

  it('keeps the query apart and refuses NUL in it', () => {
    expect(parseRequestTarget('/api/x?a=%2f&b=;')).toEqual({ path: '/api/x', query: '?a=%2f&b=;' });
    expect(parseRequestTarget('/api/x?a=%00')).toBeUndefined();
  });
});
