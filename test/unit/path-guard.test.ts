import { describe, expect, it } from 'vitest';
import { isSafePath } from '../../src/http/path-guard.js';

describe('isSafePath', () => {
  it.each(['/', '/api/orders', '/api/orders/1', '/a.b/c..d', '/api/%20space', '/auth/callback'])(
    'accepts %s',
    (p) => {
      expect(isSafePath(p)).toBe(true);
    },
  );
  it.each([
    '/api/../admin',
    '/api/./x',
    '/api/..',
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
  ])('refuses %s', (p) => {
    expect(isSafePath(p)).toBe(false);
  });
});
