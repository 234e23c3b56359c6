/**
 * The contract's Proxying rules for paths: how targets map onto the upstream, what is refused before
 * routing, and a stricter nested route (GET only) that cannot be bypassed.
 * Raw requests (fetch would normalise paths and headers before the gateway saw them) and a real
 * upstream that logs what it got (test/helpers/proxy-rules-stack.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type RecordingUpstream } from '../helpers/recording-upstream.js';
import { useProxyRulesStack } from '../helpers/proxy-rules-stack.js';

const world = useProxyRulesStack();
const { asAlice, send, only, expectError } = world;
let up: RecordingUpstream;
let aliceToken: string;
beforeAll(() => {
  ({ up, aliceToken } = world);
});

describe('paths', () => {
  it.each([
    '/api//x',
    '/api/x//',
    '//api/x',
    '/api/x;y',
    '/api/x;',
    '/api/orders;jsessionid=x/1',
    '/api/orders/..;/x',
    '/api/..;/x',
    '/api/x%3by',
    '/api/x%3By',
    '/api/%2e%2e/x',
    '/api/%2E./x',
    '/api/x/%2e',
    '/api/a%2fb',
    '/api/a%2Fb',
    '/api/a%5cb',
    '/api/a%00b',
    '/api/%2e%2e%3b/x',
    '/nowhere//x',
    '/nowhere;x',
  ])('%s: 400 bad_request before any routing; the upstream sees nothing', async (path) => {
    expectError(await send('GET', path), 400, 'bad_request');
    expect(up.log).toEqual([]);
  });

  it.each([
    ['/api/%61dmin', '/admin-svc'],
    ['/api/%61dmin/x', '/admin-svc/x'],
    ['/api/%7Euser', '/v1/~user'],
    ['/api/%7euser', '/v1/~user'],
    ['/api/a%2Db%5Fc', '/v1/a-b_c'],
    ['/api/%30%39', '/v1/09'],
    ['/api/file%2Ejson', '/v1/file.json'],
    ['/api/%41%5A', '/v1/AZ'],
    ['/api/a%20b', '/v1/a%20b'],
    ['/api/caf%C3%A9', '/v1/caf%C3%A9'],
    ['/api/caf%c3%a9', '/v1/caf%c3%a9'],
    ['/api/a%2Bb%40c', '/v1/a%2Bb%40c'],
    // `%25` is not unreserved: no second decoding, so this is not /api/admin.
    ['/api/%2561dmin', '/v1/%2561dmin'],
    // The query is not a path: it passes as it came, `;` and encodings included.
    ['/api/x?q=%61&r=a;b', '/v1/x?q=%61&r=a;b'],
  ])('%s reaches the upstream as %s', async (path, upstreamUrl) => {
    expect((await send('GET', path)).status).toBe(200);
    expect(only()).toMatchObject({ method: 'GET', url: upstreamUrl, bearer: aliceToken });
  });

  describe('a stricter nested route (/api/admin: GET only) cannot be bypassed', () => {
    it('POST /api//admin/delete: 400, nothing forwarded', async () => {
      expectError(
        await send('POST', '/api//admin/delete', [...asAlice(), 'Content-Length: 0']),
        400,
        'bad_request',
      );
      expect(up.log).toEqual([]);
    });

    it.each(['/api/admin/delete', '/api/%61dmin/delete', '/api/%61%64%6d%69%6e/delete'])(
      'POST %s: 405 from the admin route',
      async (path) => {
        const res = await send('POST', path, [...asAlice(), 'Content-Length: 0']);
        expectError(res, 405, 'method_not_allowed');
        expect(res.header('allow')).toBe('GET, HEAD');
        expect(up.log).toEqual([]);
      },
    );

    it('prefixes match case-sensitively: /api/%41dmin is /api/Admin, the /api route', async () => {
      expect((await send('POST', '/api/%41dmin/x', [...asAlice(), 'Content-Length: 0'])).status).toBe(200);
      expect(only()).toMatchObject({ method: 'POST', url: '/v1/Admin/x' });
      up.reset();
      expectError(await send('GET', '/API/x'), 404, 'not_found');
      expect(up.log).toEqual([]);
    });
  });
});
