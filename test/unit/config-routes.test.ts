/** loadConfig: routes from the file (split from the former config.test.ts by section). */
import { describe, it, expect } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config/index.js';
import { BASE, errorOf, writeTemp } from '../helpers/config.js';

describe('routes', () => {
  function routesFrom(yamlRoutes: string): ReturnType<typeof loadConfig>['routes'] {
    return loadConfig({ ...BASE, BFF_CONFIG: writeTemp('gateway.yaml', `routes:\n${yamlRoutes}`) }).routes;
  }

  function routeError(yamlRoutes: string): ConfigError {
    return errorOf({ ...BASE, BFF_CONFIG: writeTemp('gateway.yaml', `routes:\n${yamlRoutes}`) });
  }

  it('normalises prefix, target and methods', () => {
    const [route] = routesFrom(
      '  - prefix: /api/orders//\n    target: HTTP://Orders:8080/v1/./x/\n    methods: "get, Post get"\n    token: CLIENT\n',
    );
    expect(route).toMatchObject({
      prefix: '/api/orders',
      target: 'http://orders:8080/v1/x',
      methods: ['GET', 'POST'],
      token: 'client',
    });
  });

  it('keeps the root prefix', () => {
    expect(routesFrom('  - prefix: /\n    target: http://app\n')[0]!.prefix).toBe('/');
  });

  it.each([
    ['prefix missing', '  - target: http://a\n', 'routes[0].prefix', /required/],
    ['target missing', '  - prefix: /a\n', 'routes[0].target', /required/],
    ['prefix without slash', '  - prefix: api\n    target: http://a\n', 'routes[0].prefix', /start with/],
    ['prefix with ..', '  - prefix: /api/../x\n    target: http://a\n', 'routes[0].prefix', /\.\./],
    ['prefix with .', '  - prefix: /api/./x\n    target: http://a\n', 'routes[0].prefix', /\./],
    ['prefix with %', '  - prefix: /api%2fx\n    target: http://a\n', 'routes[0].prefix', /%/],
    ['prefix with //', '  - prefix: /api//x\n    target: http://a\n', 'routes[0].prefix', /empty segment/],
    ['prefix /auth', '  - prefix: /auth\n    target: http://a\n', 'routes[0].prefix', /\/auth/],
    ['prefix under /auth', '  - prefix: /Auth/x\n    target: http://a\n', 'routes[0].prefix', /\/auth/],
    ['prefix with a query', '  - prefix: /a?b\n    target: http://a\n', 'routes[0].prefix', /\?/],
    [
      'duplicate prefix',
      '  - prefix: /a\n    target: http://a\n  - prefix: /a/\n    target: http://b\n',
      'routes[1].prefix',
      /routes\[0\]/,
    ],
    ['target relative', '  - prefix: /a\n    target: /local\n', 'routes[0].target', /URL/],
    ['target ftp', '  - prefix: /a\n    target: ftp://a\n', 'routes[0].target', /http/],
    ['target with query', '  - prefix: /a\n    target: http://a/?x=1\n', 'routes[0].target', /query/],
    ['target with fragment', '  - prefix: /a\n    target: http://a/#x\n', 'routes[0].target', /fragment/],
    [
      'bad token',
      '  - prefix: /a\n    target: http://a\n    token: service\n',
      'routes[0].token',
      /user, client/,
    ],
    [
      'bad method',
      '  - prefix: /a\n    target: http://a\n    methods: ["GE T"]\n',
      'routes[0].methods',
      /method/,
    ],
    [
      'empty methods',
      '  - prefix: /a\n    target: http://a\n    methods: []\n',
      'routes[0].methods',
      /at least one/,
    ],
    [
      'bad csrf',
      '  - prefix: /a\n    target: http://a\n    csrf: sometimes\n',
      'routes[0].csrf',
      /true or false/,
    ],
    [
      'bad websocket',
      '  - prefix: /a\n    target: http://a\n    websocket: [x]\n',
      'routes[0].websocket',
      /true or false/,
    ],
    [
      'bad timeout',
      '  - prefix: /a\n    target: http://a\n    timeout: 30 s\n',
      'routes[0].timeout',
      /duration/,
    ],
    [
      'zero timeout',
      '  - prefix: /a\n    target: http://a\n    timeout: 0\n',
      'routes[0].timeout',
      /greater than 0/,
    ],
    ['huge timeout', '  - prefix: /a\n    target: http://a\n    timeout: 30d\n', 'routes[0].timeout', /24d/],
    [
      'bad scope',
      '  - prefix: /a\n    target: http://a\n    scopes: ["a\\"b"]\n',
      'routes[0].scopes',
      /scope/,
    ],
    ['not a mapping', '  - /a\n', 'routes[0]', /mapping/],
  ])('rejects %s', (_name, yamlRoutes, key, pattern) => {
    const error = routeError(yamlRoutes);
    expect(error.variable).toBe('BFF_CONFIG');
    expect(error.message).toContain(key);
    expect(error.message).toContain('(in ');
    expect(error.message).toMatch(pattern);
  });
});
