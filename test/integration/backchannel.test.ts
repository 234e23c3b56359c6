import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLIENT_ID, signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { getSigningKey } from '../helpers/idp.js';
import { confirmIdpLogout } from '../helpers/login.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let upstream: Upstream;
let stack: Stack;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({
    backchannel: true,
    routes: [{ prefix: '/api/ws', target: upstream.url, token: 'user', websocket: true }],
  });
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});

async function sessionAlive(user: SignedIn): Promise<boolean> {
  return (await stack.redis.client.exists(stack.parts.keys.session(user.sid))) === 1;
}

function post(
  body: URLSearchParams | string,
  contentType = 'application/x-www-form-urlencoded',
): Promise<Response> {
  return fetch(`${stack.baseUrl}/auth/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
}

/** A logout token signed with the IdP's own key (or `key`), valid unless the test changes something. */
async function logoutToken(
  claims: JWTPayload,
  options: { alg?: string; typ?: string; omit?: string[]; key?: Parameters<SignJWT['sign']>[0] } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    iss: stack.idp.issuer,
    aud: CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: randomUUID(),
    events: { [EVENT]: {} },
    ...claims,
  };
  for (const name of options.omit ?? []) delete payload[name];
  const key = options.key ?? (await importJWK(await getSigningKey(), 'RS256'));
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: 'test-rs256', typ: options.typ ?? 'logout+jwt' })
    .sign(key);
}

describe('back-channel logout from the real IdP', () => {
  it('an IdP-side logout ends the gateway session and closes its WebSocket', async () => {
    const alice = await signIn(stack, 'alice');
    const record = await alice.record();
    expect(record.idpSid).toBeTruthy();
    const ws = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/api/ws`, {
      headers: { cookie: alice.cookie, origin: stack.baseUrl },
    });
    await once(ws, 'open');
    const closed = once(ws, 'close');

    // The user signs out at the IdP itself (another app's logout button, say).
    await confirmIdpLogout(alice.browser, `${stack.idp.url('/session/end')}?client_id=${CLIENT_ID}`);
    await expect.poll(() => stack.idp.counts.backchannelLogouts, { timeout: 5000 }).toBe(1);
    expect(stack.idp.counts.backchannelErrors).toBe(0);

    expect(await sessionAlive(alice)).toBe(false);
    expect((await alice.browser.fetch(`${stack.baseUrl}/auth/session`)).status).toBe(401);
    await closed;
    // The index entries went with it.
    expect(
      await stack.redis.client.exists(stack.parts.keys.sessionsByIdpSid(stack.idp.issuer, record.idpSid!)),
    ).toBe(0);
  });
});

describe('crafted logout tokens', () => {
  it('a valid token with sid ends exactly that IdP session; answers 200 no-store', async () => {
    const alice = await signIn(stack, 'alice');
    const bob = await signIn(stack, 'bob');
    const { idpSid } = await alice.record();
    const res = await post(
      new URLSearchParams({ logout_token: await logoutToken({ sid: idpSid, sub: 'alice' }) }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await sessionAlive(alice)).toBe(false);
    expect(await sessionAlive(bob)).toBe(true);
  });

  it('a token with only sub ends every session of that user', async () => {
    const first = await signIn(stack, 'erin');
    const second = await signIn(stack, 'erin');
    const other = await signIn(stack, 'bob');
    const res = await post(new URLSearchParams({ logout_token: await logoutToken({ sub: 'erin' }) }));
    expect(res.status).toBe(200);
    expect(await sessionAlive(first)).toBe(false);
    expect(await sessionAlive(second)).toBe(false);
    expect(await sessionAlive(other)).toBe(true);
  });

  it('a replayed jti is refused', async () => {
    const token = await logoutToken({ sub: 'nobody' });
    expect((await post(new URLSearchParams({ logout_token: token }))).status).toBe(200);
    const replay = await post(new URLSearchParams({ logout_token: token }));
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({ error: 'invalid_request', message: expect.any(String) });
  });

  const otherKey = generateKeyPair('RS256');
  const cases: Array<[string, () => Promise<string>]> = [
    [
      'a bad signature (another key)',
      async () => logoutToken({ sub: 'victim' }, { key: (await otherKey).privateKey }),
    ],
    [
      'alg none',
      async () => {
        const [, payload] = (await logoutToken({ sub: 'victim' })).split('.');
        return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'logout+jwt' })).toString('base64url')}.${payload}.`;
      },
    ],
    [
      'an HMAC token keyed with the client secret',
      async () =>
        logoutToken(
          { sub: 'victim' },
          { alg: 'HS256', key: new TextEncoder().encode('bff-test-client-secret-0123456789abcdef') },
        ),
    ],
    ['a wrong iss', () => logoutToken({ sub: 'victim', iss: 'https://evil.example' })],
    ['a wrong aud', () => logoutToken({ sub: 'victim', aud: 'someone-else' })],
    ['no iat', () => logoutToken({ sub: 'victim' }, { omit: ['iat'] })],
    [
      'expired',
      () =>
        logoutToken({
          sub: 'victim',
          exp: Math.floor(Date.now() / 1000) - 600,
          iat: Math.floor(Date.now() / 1000) - 900,
        }),
    ],
    ['no events', () => logoutToken({ sub: 'victim' }, { omit: ['events'] })],
    [
      'events without the back-channel member',
      () => logoutToken({ sub: 'victim', events: { 'http://example.com/other': {} } }),
    ],
    [
      'a back-channel event that is not an object',
      () => logoutToken({ sub: 'victim', events: { [EVENT]: 'yes' } }),
    ],
    ['a nonce', () => logoutToken({ sub: 'victim', nonce: 'n' })],
    ['neither sid nor sub', () => logoutToken({})],
    ['no jti', () => logoutToken({ sub: 'victim' }, { omit: ['jti'] })],
    [
      'an ID token (typ JWT, no events)',
      () => logoutToken({ sub: 'victim' }, { typ: 'JWT', omit: ['events'] }),
    ],
    ['another typ', () => logoutToken({ sub: 'victim' }, { typ: 'at+jwt' })],
  ];

  it.each(cases)('refuses %s with 400 invalid_request and ends nothing', async (_name, make) => {
    const victim = await signIn(stack, 'victim');
    const res = await post(new URLSearchParams({ logout_token: await make() }));
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'invalid_request', message: expect.any(String) });
    expect(await sessionAlive(victim)).toBe(true);
  });

  it.each([
    ['no logout_token field', new URLSearchParams({ other: 'x' })],
    ['garbage', new URLSearchParams({ logout_token: 'not-a-jwt' })],
  ])('refuses %s with 400', async (_name, body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', message: expect.any(String) });
  });

  it('a JSON body is not a form: 400', async () => {
    const res = await post(
      JSON.stringify({ logout_token: await logoutToken({ sub: 'x' }) }),
      'application/json',
    );
    expect(res.status).toBe(400);
  });
});
