import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/http/return-to.js';

const ORIGIN = 'https://app.example.com';

describe('safeReturnTo', () => {
  it.each([
    ['/dashboard', '/dashboard'],
    ['/a/b?x=1#frag', '/a/b?x=1#frag'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
    ['/a/../b', '/b'],
  ])('keeps the same-origin path %s', (input, expected) => {
    expect(safeReturnTo(input, ORIGIN)).toBe(expected);
  });

  it.each([
    '//evil.example',
    '//evil.example/path',
    '/\\evil.example',
    '\\/evil.example',
    '/\\/evil.example',
    'https://evil.example',
    'http://app.example.com.evil.example/',
    'javascript:alert(1)',
    '%2F%2Fevil.example',
    '%2f%2fevil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    ' /x',
    'evil.example',
    '',
    '///evil.example',
    '/' + 'a'.repeat(3000),
  ])('replaces %j with /', (input) => {
    expect(safeReturnTo(input, ORIGIN)).toBe('/');
  });

  it('ignores non-strings (repeated query parameters)', () => {
    expect(safeReturnTo(['/a', '/b'], ORIGIN)).toBe('/');
    expect(safeReturnTo(undefined, ORIGIN)).toBe('/');
  });
});
