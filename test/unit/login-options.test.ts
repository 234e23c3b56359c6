/**
 * The sign-in options /auth/login passes on (src/oidc/login-options.ts) and the `login_error` a
 * failed silent sign-in appends to returnTo (src/http/return-to.ts).
 */
import { describe, expect, it } from 'vitest';
import { withLoginError } from '../../src/http/return-to.js';
import { loginOptionParams, parseLoginOptions, parseMaxAge } from '../../src/oidc/login-options.js';

describe('parseLoginOptions', () => {
  it('keeps the five options in their form, and nothing else', () => {
    const options = parseLoginOptions({
      prompt: 'select_account',
      acr_values: 'urn:example:mfa  urn:example:pwd',
      max_age: '300',
      login_hint: 'alice@example.com',
      ui_locales: 'de-CH fr',
      scope: 'openid admin',
      redirect_uri: 'https://evil.example/cb',
      response_mode: 'fragment',
      request_uri: 'urn:x',
      claims: '{"id_token":{"acr":{"essential":true}}}',
    });
    expect(options).toEqual({
      prompt: 'select_account',
      acrValues: 'urn:example:mfa urn:example:pwd',
      maxAge: 300,
      loginHint: 'alice@example.com',
      uiLocales: 'de-CH fr',
    });
    expect(loginOptionParams(options)).toEqual([
      ['prompt', 'select_account'],
      ['acr_values', 'urn:example:mfa urn:example:pwd'],
      ['max_age', '300'],
      ['login_hint', 'alice@example.com'],
      ['ui_locales', 'de-CH fr'],
    ]);
  });

  it.each(['none', 'login', 'consent', 'select_account'])('prompt=%s is kept', (prompt) => {
    expect(parseLoginOptions({ prompt })).toEqual({ prompt });
  });

  it.each([
    ['an unknown prompt', { prompt: 'create' }],
    ['two prompts', { prompt: 'login consent' }],
    ['a repeated parameter', { prompt: ['none', 'login'] }],
    ['an empty value', { prompt: '', acr_values: '', login_hint: '', ui_locales: '', max_age: '' }],
    ['acr_values with a quote', { acr_values: 'urn:a"b' }],
    ['acr_values with a control character', { acr_values: 'urn:a\nurn:b' }],
    ['more than 10 acr values', { acr_values: Array.from({ length: 11 }, (_, i) => `a${i}`).join(' ') }],
    ['acr_values over 512 characters', { acr_values: `urn:${'x'.repeat(510)}` }],
    ['a login_hint over 256 characters', { login_hint: 'x'.repeat(257) }],
    ['a login_hint with a control character', { login_hint: 'alice\r\nX-Injected: 1' }],
    ['ui_locales that are not language tags', { ui_locales: 'en_US' }],
    [
      'ui_locales over 128 characters',
      { ui_locales: Array.from({ length: 10 }, () => 'abcdefgh-ijklmn').join(' ') },
    ],
  ])('drops %s', (_what, query) => {
    expect(parseLoginOptions(query)).toEqual({});
  });

  it.each(['-1', '1.5', '1e3', ' 10', '0x10', '+5', '1000000000', 'NaN', 'Infinity'])(
    'drops max_age=%s',
    (value) => {
      expect(parseMaxAge(value)).toBeUndefined();
      expect(parseLoginOptions({ max_age: value })).toEqual({});
    },
  );

  it.each([
    ['0', 0],
    ['900', 900],
    ['999999999', 999_999_999],
  ])('keeps max_age=%s', (value, seconds) => {
    expect(parseLoginOptions({ max_age: value })).toEqual({ maxAge: seconds });
  });
});

describe('withLoginError', () => {
  it.each([
    ['/', '/?login_error=login_required'],
    ['/a/b?x=1', '/a/b?x=1&login_error=login_required'],
    ['/a?x=%20y+z#frag?x', '/a?x=%20y+z&login_error=login_required#frag?x'],
    ['/a?login_error=consent_required&x=1', '/a?x=1&login_error=login_required'],
    ['/a?#h', '/a?login_error=login_required#h'],
  ])('%s becomes %s', (returnTo, expected) => {
    expect(withLoginError(returnTo, 'login_required')).toBe(expected);
  });
});
