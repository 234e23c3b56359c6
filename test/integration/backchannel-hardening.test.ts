/**
 * Back-channel logout from the attacker's side (issue 9, item 5): logout tokens that are signed with
 * the IdP's real key but are not fresh (no `exp`, an old or a future `iat`) are refused, and a store
 * failure while the sessions are ended does not burn the token's `jti`, so the IdP's retry works.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, signIn, startStack, type SignedIn, type Stack } from '../helpers/gateway.js';
import { getSigningKey } from '../helpers/idp.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ backchannel: true });
});
afterAll(async () => {
  await stack?.stop();
});

async function sessionAlive(user: SignedIn): Promise<boolean> {
  return (await stack.redis.client.exists(stack.parts.keys.session(user.sid))) === 1;
}

function post(token: string): Promise<Response> {
  return fetch(`${stack.baseUrl}/auth/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }),
  });
}

/** A logout token signed with the IdP's own key; fresh and valid unless `claims` / `omit` change it. */
async function logoutToken(claims: JWTPayload, omit: string[] = []): Promise<string> {
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
  for (const name of omit) delete payload[name];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-rs256', typ: 'logout+jwt' })
    .sign(await importJWK(await getSigningKey(), 'RS256'));
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe('stale or odd logout tokens, signed with the IdP key', () => {
  const cases: Array<[string, (sid: string) => Promise<string>, RegExp]> = [
    ['without exp', (sid) => logoutToken({ sid }, ['exp']), /"exp"/],
    [
      'with an iat 11 minutes old (exp still ahead)',
      (sid) => logoutToken({ sid, iat: nowSec() - 11 * 60, exp: nowSec() + 3600 }),
      /"iat".*too far in the past/,
    ],
    [
      'with an iat a year old (exp a year ahead)',
      (sid) => logoutToken({ sid, iat: nowSec() - 365 * 86400, exp: nowSec() + 365 * 86400 }),
      /"iat".*too far in the past/,
    ],
    [
      'with an iat one minute in the future (tolerance 5 s)',
      (sid) => logoutToken({ sid, iat: nowSec() + 60, exp: nowSec() + 180 }),
      /"iat".*should be in the past/,
    ],
    [
      'with an iat a year in the future',
      (sid) => logoutToken({ sid, iat: nowSec() + 365 * 86400, exp: nowSec() + 366 * 86400 }),
      /"iat".*should be in the past/,
    ],
  ];

  it.each(cases)('refuses a token %s: 400, reason logged, the session lives', async (_n, make, reason) => {
    const victim = await signIn(stack, 'victim');
    const { idpSid } = await victim.record();
    stack.logs.clear();
    const res = await post(await make(idpSid!));
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'invalid_request', message: expect.any(String) });
    expect(await sessionAlive(victim)).toBe(true);
    const refusal = stack.logs.json().find((l) => l.msg === 'back-channel logout refused');
    expect(String(refusal?.reason)).toMatch(reason);
  });

  it('accepts an iat 9 minutes old and one within the clock tolerance ahead', async () => {
    const first = await signIn(stack, 'carol');
    const second = await signIn(stack, 'dave');
    const old = await logoutToken({ sid: (await first.record()).idpSid!, iat: nowSec() - 9 * 60 });
    const ahead = await logoutToken({ sid: (await second.record()).idpSid!, iat: nowSec() + 3 });
    expect((await post(old)).status).toBe(200);
    expect((await post(ahead)).status).toBe(200);
    expect(await sessionAlive(first)).toBe(false);
    expect(await sessionAlive(second)).toBe(false);
  });
});

describe('a store failure while the sessions are ended', () => {
  it('answers 503 and keeps the jti unused: the same token again ends the session', async () => {
    const user = await signIn(stack, 'frank');
    const { idpSid } = await user.record();
    const token = await logoutToken({ sid: idpSid! });
    // The store refuses DEL (a real Redis error on the real connection) only for the first attempt:
    // the token is valid, the jti not yet seen, and the failure hits the deletion of the sessions.
    await stack.redis.client.call('ACL', 'SETUSER', 'default', '-del');
    let first: Response;
    try {
      first = await post(token);
    } finally {
      await stack.redis.client.call('ACL', 'SETUSER', 'default', '+del');
    }
    expect(first.status).toBe(503);
    expect(await first.json()).toEqual({ error: 'session_store_unavailable', message: expect.any(String) });
    expect(await sessionAlive(user)).toBe(true);

    // The IdP retries the very same token.
    const retry = await post(token);
    expect(retry.status).toBe(200);
    expect(await sessionAlive(user)).toBe(false);
    expect((await user.browser.fetch(`${stack.baseUrl}/auth/session`)).status).toBe(401);

    // Now, and only now, the jti is spent.
    const replay = await post(token);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({ error: 'invalid_request', message: expect.any(String) });
  });
});
