/** loadConfig: a route's `require` (claims, acr, maxAge), and the problems that stop start-up. */
import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config/index.js';
import { BASE, errorOf, writeTemp } from '../helpers/config.js';

const ROUTE = '  - prefix: /api/a\n    target: http://a\n';

function routesFrom(yaml: string): ReturnType<typeof loadConfig>['routes'] {
  return loadConfig({ ...BASE, BFF_CONFIG: writeTemp('gateway.yaml', `routes:\n${yaml}`) }).routes;
}

function routeError(yaml: string): ConfigError {
  return errorOf({ ...BASE, BFF_CONFIG: writeTemp('gateway.yaml', `routes:\n${yaml}`) });
}

describe('route require', () => {
  it('reads claims (lists and single values, JSON scalars kept as such), acr and maxAge', () => {
    const [route] = routesFrom(
      `${ROUTE}    require:\n` +
        '      claims:\n        groups: [orders-admins, staff]\n        email_verified: true\n        level: [2, "3"]\n' +
        '      acr: [urn:example:mfa, 2]\n      maxAge: 15m\n',
    );
    expect(route!.require).toEqual({
      claims: [
        ['groups', ['orders-admins', 'staff']],
        ['email_verified', [true]],
        ['level', [2, '3']],
      ],
      acr: ['urn:example:mfa', '2'],
      maxAgeMs: 900_000,
    });
  });

  it('takes acr as a space-separated string, and any one kind alone', () => {
    expect(routesFrom(`${ROUTE}    require: { acr: "urn:a  urn:b" }\n`)[0]!.require).toEqual({
      claims: [],
      acr: ['urn:a', 'urn:b'],
      maxAgeMs: undefined,
    });
    expect(routesFrom(`${ROUTE}    require: { maxAge: 90 }\n`)[0]!.require).toEqual({
      claims: [],
      acr: undefined,
      maxAgeMs: 90_000,
    });
  });

  it('leaves routes without require (or with an empty one) without a policy', () => {
    const routes = routesFrom(`${ROUTE}  - prefix: /api/b\n    target: http://b\n    require:\n`);
    expect(routes.map((r) => r.require)).toEqual([undefined, undefined]);
    expect(routes.every((r) => 'require' in r)).toBe(true);
  });

  it('is allowed on an optional route', () => {
    const [route] = routesFrom(`${ROUTE}    token: optional\n    require: { claims: { groups: [a] } }\n`);
    expect(route!.require?.claims).toEqual([['groups', ['a']]]);
  });

  it.each([
    ['not a mapping', '    require: admins\n', 'routes[0].require ', /mapping with claims/],
    ['an empty mapping', '    require: {}\n', 'routes[0].require ', /claims, acr or maxAge/],
    ['an unknown key', '    require: { groups: [a] }\n', 'routes[0].require.groups', /policy key/],
    ['claims not a mapping', '    require: { claims: [groups] }\n', 'routes[0].require.claims ', /mapping/],
    ['claims empty', '    require: { claims: {} }\n', 'routes[0].require.claims ', /mapping/],
    [
      'a claim with no values',
      '    require: { claims: { groups: [] } }\n',
      'routes[0].require.claims.groups',
      /at least one/,
    ],
    [
      'a claim with an object value',
      '    require: { claims: { groups: [{ a: 1 }] } }\n',
      'routes[0].require.claims.groups',
      /strings, numbers or booleans/,
    ],
    [
      'a claim with null among its values',
      '    require: { claims: { groups: [a, null] } }\n',
      'routes[0].require.claims.groups',
      /strings, numbers or booleans/,
    ],
    [
      'acr with a space inside a value',
      '    require: { acr: ["urn:a b"] }\n',
      'routes[0].require.acr',
      /acr/,
    ],
    ['acr empty', '    require: { acr: [] }\n', 'routes[0].require.acr', /acr/],
    [
      'acr with a quote',
      `    require: { acr: ['urn:"a'] }\n`,
      'routes[0].require.acr',
      /without spaces, " or/,
    ],
    [
      'acr with eleven values',
      `    require: { acr: [${Array.from({ length: 11 }, (_, i) => `u${i}`).join(', ')}] }\n`,
      'routes[0].require.acr',
      /at most 10 values/,
    ],
    [
      'acr longer than 512 characters together',
      `    require: { acr: [${Array.from({ length: 3 }, () => 'x'.repeat(200)).join(', ')}] }\n`,
      'routes[0].require.acr',
      /512 characters/,
    ],
    ['maxAge over a year', '    require: { maxAge: 367d }\n', 'routes[0].require.maxAge', /at most 366d/],
    ['acr not a string', '    require: { acr: [true] }\n', 'routes[0].require.acr', /acr/],
    ['maxAge not a duration', '    require: { maxAge: 15 min }\n', 'routes[0].require.maxAge', /duration/],
    ['maxAge zero', '    require: { maxAge: 0 }\n', 'routes[0].require.maxAge', /greater than 0/],
    ['maxAge a list', '    require: { maxAge: [1] }\n', 'routes[0].require.maxAge', /duration/],
    [
      'require on a client route',
      '    token: client\n    require: { acr: [urn:a] }\n',
      'routes[0].require ',
      /token: user or optional.*token: client/,
    ],
    [
      'require on a none route',
      '    token: none\n    require: { maxAge: 1m }\n',
      'routes[0].require ',
      /needs token: user or optional/,
    ],
  ])('stops start-up on %s, naming the key', (_name, yaml, key, pattern) => {
    const error = routeError(`${ROUTE}${yaml}`);
    expect(error.variable).toBe('BFF_CONFIG');
    expect(error.problems).toHaveLength(1);
    expect(`${error.message} `).toContain(key);
    expect(error.fileKey).toBe(key.trim());
    expect(error.message).toContain('(in ');
    expect(error.message).toMatch(pattern);
  });

  it('names the route by its index among several, and reports other routes too', () => {
    const error = routeError(
      `${ROUTE}  - prefix: /api/b\n    target: http://b\n` +
        '  - prefix: /api/c\n    target: http://c\n    require: { claims: { groups: [] } }\n' +
        '  - prefix: /api/d\n    target: http://d\n    timeout: soon\n',
    );
    expect(error.problems.map((p) => p.fileKey)).toEqual([
      'routes[2].require.claims.groups',
      'routes[3].timeout',
    ]);
  });
});
