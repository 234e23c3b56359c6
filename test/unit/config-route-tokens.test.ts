/** loadConfig: a route's `audience` and `exchange` (contract "Tokens per API"). */
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { BASE, errorOf, writeTemp } from '../helpers/config.js';

const file = (routes: string): Record<string, string> => ({
  ...BASE,
  BFF_CONFIG: writeTemp('gateway.yaml', `routes:\n${routes}`),
});
const ROUTE = '  - prefix: /api/orders\n    target: http://orders\n';

describe('route audience and exchange', () => {
  it('reads an audience and an exchange (scope as a list or a string)', () => {
    const routes = loadConfig(
      file(
        `${ROUTE}    audience: " https://orders.example.com "\n` +
          '  - prefix: /api/billing\n    target: http://billing\n    token: optional\n' +
          '    exchange:\n      audience: billing-api\n      scope: [billing.read, billing.read, billing.write]\n' +
          '  - prefix: /api/plain\n    target: http://plain\n    exchange: { audience: https://x.example }\n',
      ),
    ).routes;
    expect(routes[0]).toMatchObject({ audience: 'https://orders.example.com', exchange: undefined });
    expect(routes[1]).toMatchObject({
      audience: undefined,
      exchange: { audience: 'billing-api', scope: 'billing.read billing.write' },
    });
    expect(routes[2]!.exchange).toEqual({ audience: 'https://x.example', scope: undefined });
  });

  it('leaves both unset by default', () => {
    const [route] = loadConfig(file(ROUTE)).routes;
    expect(route!.audience).toBeUndefined();
    expect(route!.exchange).toBeUndefined();
  });

  it.each([
    ['a relative audience', `${ROUTE}    audience: orders\n`, 'routes[0].audience', /absolute URI/],
    [
      'an audience with a fragment',
      `${ROUTE}    audience: https://o.example/#x\n`,
      'routes[0].audience',
      /fragment/,
    ],
    [
      'an audience that is a list',
      `${ROUTE}    audience: [https://o.example]\n`,
      'routes[0].audience',
      /URI|string/,
    ],
    [
      'an exchange that is a string',
      `${ROUTE}    exchange: https://o.example\n`,
      'routes[0].exchange',
      /mapping/,
    ],
    [
      'an exchange without audience',
      `${ROUTE}    exchange: { scope: a }\n`,
      'routes[0].exchange.audience',
      /required/,
    ],
    [
      'an unknown exchange key',
      `${ROUTE}    exchange: { audience: a, resource: b }\n`,
      'routes[0].exchange.resource',
      /not an exchange key/,
    ],
    [
      'a bad exchange scope',
      `${ROUTE}    exchange: { audience: a, scope: 'x"y' }\n`,
      'routes[0].exchange.scope',
      /invalid scope/,
    ],
    [
      'both audience and exchange',
      `${ROUTE}    audience: https://o.example\n    exchange: { audience: o }\n`,
      'routes[0].exchange',
      /together with audience/,
    ],
    [
      'audience on a client route',
      `${ROUTE}    token: client\n    audience: https://o.example\n`,
      'routes[0].audience',
      /token: user or optional/,
    ],
    [
      'exchange on a none route',
      `${ROUTE}    token: none\n    exchange: { audience: o }\n`,
      'routes[0].exchange',
      /token: user or optional/,
    ],
  ])('refuses %s, naming the key', (_name, routes, key, pattern) => {
    const error = errorOf(file(routes));
    expect(error.variable).toBe('BFF_CONFIG');
    expect(error.message).toContain(key);
    expect(error.message).toMatch(pattern);
  });
});
