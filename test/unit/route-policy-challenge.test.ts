/** RFC 9470 challenges from upstreams (src/proxy/step-up-challenge.ts): parsing and what is kept. */
import { describe, expect, it } from 'vitest';

import { findStepUpChallenge, parseChallenges } from '../../src/proxy/step-up-challenge.js';

const plain = (header: string) =>
  parseChallenges(header).map((c) => ({ scheme: c.scheme, params: Object.fromEntries(c.params) }));

describe('parseChallenges', () => {
  it('reads one Bearer challenge with quoted and token parameters', () => {
    expect(
      plain('Bearer error="insufficient_user_authentication", acr_values="urn:a urn:b", max_age=300'),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { error: 'insufficient_user_authentication', acr_values: 'urn:a urn:b', max_age: '300' },
      },
    ]);
  });

  it('splits several challenges, with token68 and parameter-less ones among them', () => {
    expect(
      plain('Negotiate abc+/d==, Basic realm="a, b", Bearer, DPoP algs="ES256 PS256" , Newauth realm=x'),
    ).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'a, b' } },
      { scheme: 'bearer', params: {} },
      { scheme: 'dpop', params: { algs: 'ES256 PS256' } },
      { scheme: 'newauth', params: { realm: 'x' } },
    ]);
  });

  it('unescapes quoted strings, keeps commas and = inside them, and tolerates space around =', () => {
    expect(plain('Bearer realm = "a\\"b\\\\c", error_description="x=1, y=2", scope=openid')).toEqual([
      { scheme: 'bearer', params: { realm: 'a"b\\c', error_description: 'x=1, y=2', scope: 'openid' } },
    ]);
  });

  it('lower-cases schemes and parameter names, keeps the first of a repeated name', () => {
    expect(plain('BEARER Error="first", error="second"')).toEqual([
      { scheme: 'bearer', params: { error: 'first' } },
    ]);
  });

  it('skips what is malformed instead of guessing', () => {
    // An unterminated quoted string is dropped; an element that is not a token is skipped.
    expect(plain('Bearer error="insufficient_user_authentication')).toEqual([
      { scheme: 'bearer', params: {} },
    ]);
    expect(plain('"junk", Bearer error=x')).toEqual([{ scheme: 'bearer', params: { error: 'x' } }]);
    expect(plain('')).toEqual([]);
    expect(plain(' , ,')).toEqual([]);
  });
});

describe('findStepUpChallenge', () => {
  it('finds the Bearer insufficient_user_authentication challenge among others and headers', () => {
    expect(
      findStepUpChallenge([
        'Basic realm="api"',
        'Bearer realm="api", error="invalid_token", DPoP error="insufficient_user_authentication", max_age=5',
      ]),
    ).toEqual({ acr: undefined, maxAge: 5 });
    expect(
      findStepUpChallenge([
        'Bearer error="insufficient_user_authentication", acr_values="urn:example:mfa urn:example:hwk"',
      ]),
    ).toEqual({ acr: ['urn:example:mfa', 'urn:example:hwk'], maxAge: undefined });
  });

  it.each([
    ['another error', 'Bearer error="invalid_token", acr_values="urn:a"'],
    ['another scheme', 'Basic error="insufficient_user_authentication", acr_values="urn:a"'],
    ['no error at all', 'Bearer acr_values="urn:a"'],
    ['the error as a realm', 'Bearer realm="insufficient_user_authentication"'],
  ])('ignores %s', (_name, header) => {
    expect(findStepUpChallenge([header])).toBeUndefined();
  });

  it('drops values unsafe or malformed for a login URL, keeping the valid ones', () => {
    const challenge = (params: string) =>
      findStepUpChallenge([`Bearer error=insufficient_user_authentication, ${params}`]);
    expect(challenge('acr_values="urn:ok  \u0001bad urn:also-ok", max_age=-5')).toEqual({
      acr: ['urn:ok', 'urn:also-ok'],
      maxAge: undefined,
    });
    expect(challenge('acr_values="\u00e9", max_age="12"')).toEqual({ acr: undefined, maxAge: 12 });
    expect(challenge('max_age=1.5')).toEqual({ acr: undefined, maxAge: undefined });
    expect(challenge('max_age=12345678901')).toEqual({ acr: undefined, maxAge: undefined });
    expect(challenge(`acr_values="${'x'.repeat(257)}"`)).toEqual({ acr: undefined, maxAge: undefined });
    // What /auth/login would drop (a quote or backslash inside) is dropped here already.
    expect(challenge('acr_values="urn:\\"q urn:\\\\b urn:c"')).toEqual({ acr: ['urn:c'], maxAge: undefined });
    const long = ['a', 'b', 'c'].map((c) => c.repeat(200)).join(' ');
    expect(challenge(`acr_values="${long}"`)?.acr).toEqual(['a'.repeat(200), 'b'.repeat(200)]);
    const many = Array.from({ length: 12 }, (_, i) => `urn:${i}`).join(' ');
    expect(challenge(`acr_values="${many}"`)?.acr).toHaveLength(10);
  });
});
