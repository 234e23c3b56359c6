/** The route policy check (src/proxy/route-policy.ts): pure, claims in, an error or nothing out. */
import { describe, expect, it } from 'vitest';

import type { RoutePolicy } from '../../src/config/types.js';
import { ForbiddenError, StepUpRequiredError } from '../../src/errors.js';
import { checkRoutePolicy, claimMatches, stepUpLoginUrl } from '../../src/proxy/route-policy.js';

const NOW = 1_800_000_000_000;
const policy = (p: Partial<RoutePolicy>): RoutePolicy => ({
  claims: [],
  acr: undefined,
  maxAgeMs: undefined,
  ...p,
});

/** What the check throws (or 'ok'), as the contract's code plus the login URL of a step-up. */
function outcome(p: RoutePolicy, claims: Record<string, unknown>, now = NOW): string {
  try {
    checkRoutePolicy(p, claims, now);
    return 'ok';
  } catch (err) {
    if (err instanceof StepUpRequiredError) return `${err.status} ${err.code} ${err.loginUrl}`;
    if (err instanceof ForbiddenError) return `${err.status} ${err.code}`;
    throw err;
  }
}

describe('claimMatches', () => {
  it.each([
    ['a scalar equal to one allowed value', 'admins', ['staff', 'admins'], true],
    ['a scalar equal to none', 'guests', ['staff', 'admins'], false],
    ['an array sharing one value', ['a', 'admins'], ['admins'], true],
    ['an array sharing none', ['a', 'b'], ['admins'], false],
    ['an empty array', [], ['admins'], false],
    ['a boolean against the boolean', true, [true], true],
    ['the string "true" against the boolean', 'true', [true], false],
    ['the boolean against the string "true"', true, ['true'], false],
    ['a number against the number', 2, [2], true],
    ['the string "2" against the number', '2', [2], false],
    ['the number against the string "2"', 2, ['2'], false],
    ['an array of numbers', [1, 2], [2], true],
    ['an absent claim', undefined, ['admins'], false],
    ['a null claim', null, ['admins'], false],
    ['an object claim', { admins: true }, ['admins'], false],
    ['case differing', 'Admins', ['admins'], false],
    ['an array holding an object', [{ admins: true }], ['admins'], false],
  ])('%s: %j in %j -> %s', (_name, value, allowed, expected) => {
    expect(claimMatches(value, allowed)).toBe(expected);
  });
});

describe('checkRoutePolicy', () => {
  const admins = policy({ claims: [['groups', ['orders-admins']]] });

  it('passes when every listed claim matches', () => {
    const p = policy({
      claims: [
        ['groups', ['orders-admins']],
        ['email_verified', [true]],
      ],
    });
    expect(outcome(p, { groups: ['staff', 'orders-admins'], email_verified: true })).toBe('ok');
  });

  it('is 403 forbidden when any one listed claim fails', () => {
    const p = policy({
      claims: [
        ['groups', ['orders-admins']],
        ['email_verified', [true]],
      ],
    });
    expect(outcome(p, { groups: ['orders-admins'], email_verified: false })).toBe('403 forbidden');
    expect(outcome(p, { groups: ['staff'], email_verified: true })).toBe('403 forbidden');
    expect(outcome(p, { email_verified: true })).toBe('403 forbidden');
  });

  it('answers 403 before a step-up: a stronger sign-in cannot change the claims', () => {
    const p = policy({ claims: [['groups', ['orders-admins']]], acr: ['urn:example:mfa'] });
    expect(outcome(p, { groups: ['staff'] })).toBe('403 forbidden');
  });

  it('passes acr when the sign-in has one of the listed values', () => {
    const p = policy({ acr: ['urn:example:mfa', 'urn:example:hwk'] });
    expect(outcome(p, { acr: 'urn:example:hwk' })).toBe('ok');
  });

  it.each([
    ['a weaker acr', { acr: 'urn:example:pwd' }],
    ['no acr', {}],
    ['an acr that is not a string', { acr: ['urn:example:mfa'] }],
  ])('asks for a step-up on %s', (_name, claims) => {
    expect(outcome(policy({ acr: ['urn:example:mfa'] }), claims)).toBe(
      '401 step_up_required /auth/login?acr_values=urn%3Aexample%3Amfa',
    );
  });

  it('passes maxAge while auth_time is at most maxAge old, then asks for a fresh sign-in', () => {
    const p = policy({ maxAgeMs: 60_000 });
    const authTime = NOW / 1000 - 60;
    expect(outcome(p, { auth_time: authTime })).toBe('ok');
    // Whole seconds, as the IdP counts max_age: still fresh until a whole second more has passed.
    expect(outcome(p, { auth_time: authTime }, NOW + 999)).toBe('ok');
    expect(outcome(p, { auth_time: authTime }, NOW + 1000)).toBe(
      '401 step_up_required /auth/login?max_age=60',
    );
    // A clock a little behind the IdP's is not a reason to refuse.
    expect(outcome(p, { auth_time: NOW / 1000 + 5 })).toBe('ok');
  });

  it.each([
    ['no auth_time', {}],
    ['auth_time as a string', { auth_time: String(NOW / 1000) }],
    ['auth_time null', { auth_time: null }],
  ])('never satisfies maxAge with %s', (_name, claims) => {
    expect(outcome(policy({ maxAgeMs: 3_600_000 }), claims)).toBe(
      '401 step_up_required /auth/login?max_age=3600',
    );
  });

  it("asks for all of the route's sign-in requirements at once, whichever failed", () => {
    const p = policy({ acr: ['urn:a', 'urn:b'], maxAgeMs: 900_000 });
    const url = '/auth/login?acr_values=urn%3Aa%20urn%3Ab&max_age=900';
    expect(outcome(p, { acr: 'urn:c', auth_time: NOW / 1000 })).toBe(`401 step_up_required ${url}`);
    expect(outcome(p, { acr: 'urn:a', auth_time: NOW / 1000 - 901 })).toBe(`401 step_up_required ${url}`);
    expect(outcome(p, { acr: 'urn:b', auth_time: NOW / 1000 - 900 })).toBe('ok');
  });

  it('passes a scalar claim equal to an allowed value, and a sign-in made just now', () => {
    expect(outcome(admins, { groups: 'orders-admins' })).toBe('ok');
    expect(outcome(policy({ maxAgeMs: 1000 }), { auth_time: NOW / 1000 })).toBe('ok');
  });
});

describe('stepUpLoginUrl', () => {
  it('encodes every value and writes spaces as %20, never +', () => {
    const url = stepUpLoginUrl(['a+b', 'c&d=e', 'x#y'], undefined);
    expect(url).toBe('/auth/login?acr_values=a%2Bb%20c%26d%3De%20x%23y');
    expect(new URL(url, 'http://gw').searchParams.get('acr_values')).toBe('a+b c&d=e x#y');
  });

  it('is the plain login without requirements, and max_age=0 for "sign in now"', () => {
    expect(stepUpLoginUrl(undefined, undefined)).toBe('/auth/login');
    expect(stepUpLoginUrl([], 0)).toBe('/auth/login?max_age=0');
  });
});
