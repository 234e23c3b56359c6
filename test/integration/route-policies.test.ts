/**
 * `require.claims` with claims from real sign-ins at oidc-provider (the test IdP's `groups`: alice in
 * orders-admins and staff, bob in staff, carol in none): 403 `forbidden` never reaches the upstream and
 * spends no token work; a policy needs a session on optional routes too; WebSocket upgrades alike.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';

let up: RecordingUpstream;
let stack: Stack;
let alice: SignedIn;
let bob: SignedIn;
let carol: SignedIn;

beforeAll(async () => {
  up = await startRecordingUpstream();
  const admins = { claims: { groups: ['orders-admins'], email_verified: [true] } };
  stack = await startStack({
    routes: [
      { prefix: '/api/admin', target: `${up.url}/v1`, token: 'user', require: admins },
      {
        prefix: '/api/staff',
        target: `${up.url}/v1`,
        token: 'optional',
        require: { claims: { groups: ['orders-admins', 'staff'] } },
      },
      // JSON values: the IdP's boolean true is not the string "true".
      {
        prefix: '/api/strict',
        target: `${up.url}/v1`,
        token: 'user',
        require: { claims: { email_verified: ['true'] } },
      },
      { prefix: '/api/open', target: `${up.url}/v1`, token: 'user' },
      { prefix: '/api/ws', target: `${up.url}/socket`, token: 'user', websocket: true, require: admins },
    ],
  });
  [alice, bob, carol] = [
    await signIn(stack, 'alice'),
    await signIn(stack, 'bob'),
    await signIn(stack, 'carol'),
  ];
});
afterAll(async () => {
  await stack?.stop();
  await up?.stop();
});
beforeEach(() => {
  up.reset();
  stack.idp.resetCounts();
});

async function expectForbidden(res: Response): Promise<void> {
  expect(res.status).toBe(403);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({ error: 'forbidden', message: expect.any(String) as string });
}

describe('require.claims', () => {
  it('holds the claims of a real sign-in (groups from the IdP)', async () => {
    expect((await alice.record()).claims).toMatchObject({ groups: ['orders-admins', 'staff'] });
    expect((await bob.record()).claims).toMatchObject({ groups: ['staff'] });
    expect((await carol.record()).claims.groups).toBeUndefined();
  });

  it("lets a session whose claims all match through, with the user's token", async () => {
    const res = await alice.api('/api/admin/orders?x=1');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      url: '/v1/orders?x=1',
      bearer: (await alice.record()).tokens.accessToken,
    });
  });

  it('is 403 forbidden when a claim does not match; the upstream never hears of it', async () => {
    await expectForbidden(await bob.api('/api/admin/orders', { method: 'POST', body: 'delete everything' }));
    await expectForbidden(await carol.api('/api/admin/orders'));
    expect(up.log).toEqual([]);
    const refused = stack.logs.json().filter((l) => l.msg === 'request refused' && l.error === 'forbidden');
    expect(refused.length).toBeGreaterThanOrEqual(2);
  });

  it('lets an array claim through when it shares one allowed value; a missing claim never matches', async () => {
    expect((await alice.api('/api/staff/a')).status).toBe(200);
    expect((await bob.api('/api/staff/b')).status).toBe(200);
    await expectForbidden(await carol.api('/api/staff/c'));
    expect(up.log.map((r) => r.url)).toEqual(['/v1/a', '/v1/b']);
  });

  it('compares values as JSON: the claim true does not match the string "true"', async () => {
    await expectForbidden(await alice.api('/api/strict/x'));
    expect(up.log).toEqual([]);
  });

  it('leaves routes without require as they were', async () => {
    expect((await carol.api('/api/open/x')).status).toBe(200);
    expect(up.log).toHaveLength(1);
  });

  it('needs a session, on an optional route too: 401 unauthenticated', async () => {
    for (const path of ['/api/staff/x', '/api/admin/x']) {
      const res = await fetch(`${stack.baseUrl}${path}`, { headers: { 'x-csrf': '1' } });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'unauthenticated' });
    }
    expect(up.log).toEqual([]);
  });

  it('is checked before any token work: a refused session with an expired token refreshes nothing', async () => {
    await bob.expireAccessToken();
    const before = (await bob.record()).tokens;
    await expectForbidden(await bob.api('/api/admin/x'));
    expect(stack.idp.counts.grants.refresh_token ?? 0).toBe(0);
    expect((await bob.record()).tokens).toEqual(before);
    // The same session on a route it may use refreshes as usual (so the check above could have seen one).
    expect((await bob.api('/api/staff/x')).status).toBe(200);
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
  });
});

describe('require.claims on WebSocket upgrades', () => {
  function open(who: SignedIn): Promise<{ ws?: WebSocket; status?: number; body?: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/ws/live`, {
        headers: { cookie: who.cookie, origin: stack.baseUrl },
      });
      ws.once('open', () => resolve({ ws }));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      ws.once('error', reject);
    });
  }

  it('refuses a session whose claims do not match with 403 forbidden, never a 101', async () => {
    const { ws, status, body } = await open(bob);
    expect(ws).toBeUndefined();
    expect(status).toBe(403);
    expect(JSON.parse(body!)).toMatchObject({ error: 'forbidden' });
    expect(up.upgrades).toEqual([]);
  });

  it('opens for a session whose claims match', async () => {
    const { ws } = await open(alice);
    expect(ws).toBeDefined();
    ws!.send('ping');
    const echo = await new Promise<string>((resolve) =>
      ws!.once('message', (d: Buffer) => resolve(d.toString())),
    );
    expect(echo).toBe('ping');
    expect(up.upgrades).toHaveLength(1);
    ws!.close();
  });
});
