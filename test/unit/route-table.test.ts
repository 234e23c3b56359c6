import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../../src/config/types.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { withoutCookies } from '../../src/proxy/upstream-headers.js';

function route(prefix: string, target: string): RouteConfig {
  return {
    prefix,
    target,
    token: 'user',
    scopes: [],
    csrf: true,
    methods: undefined,
    websocket: false,
    timeoutMs: 30_000,
  };
}

describe('RouteTable', () => {
  const table = new RouteTable([
    route('/api', 'http://a:1/v1'),
    route('/api/orders', 'http://b:2'),
    route('/api/orders/admin', 'http://c:3/x/'),
  ]);

  it.each([
    ['/api', 'http://a:1/v1', '/v1'],
    ['/api/', 'http://a:1/v1', '/v1/'],
    ['/api/x?y=1', 'http://a:1/v1', '/v1/x?y=1'],
    ['/api/ordersX', 'http://a:1/v1', '/v1/ordersX'],
    ['/api/orders', 'http://b:2', '/'],
    ['/api/orders/7?q=%20', 'http://b:2', '/7?q=%20'],
    ['/api/orders/admin/1', 'http://c:3/x/', '/x/1'],
  ])('%s -> %s %s (longest whole-segment prefix)', (url, target, upstream) => {
    const [path, query] = url.split(/(?=\?)/) as [string, string | undefined];
    const match = table.match(path, query)!;
    expect(match.route.target).toBe(target);
    expect(match.upstreamUrl).toBe(upstream);
  });

  it.each(['/apix', '/', '/auth/session', '/other/api'])('%s matches nothing', (url) => {
    expect(table.match(url)).toBeUndefined();
  });

  it('a root prefix catches everything else', () => {
    const root = new RouteTable([route('/', 'http://r:1/base'), route('/api', 'http://a:1')]);
    expect(root.match('/anything/here')!.upstreamUrl).toBe('/base/anything/here');
    expect(root.match('/api/x')!.route.target).toBe('http://a:1');
  });
});

describe('withoutCookies', () => {
  it('removes only the named cookies', () => {
    expect(withoutCookies('a=1; bff-session=s%3Ax; b=2; bff-login=y', ['bff-session', 'bff-login'])).toBe(
      'a=1; b=2',
    );
    expect(withoutCookies('bff-session=x', ['bff-session'])).toBeUndefined();
    expect(withoutCookies('bff-sessionX=1; xbff-session=2', ['bff-session'])).toBe(
      'bff-sessionX=1; xbff-session=2',
    );
    expect(withoutCookies(undefined, ['bff-session'])).toBeUndefined();
  });
});
