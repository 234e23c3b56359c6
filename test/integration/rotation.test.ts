import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoredSession } from '../../src/session/records/sealed-record.js';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const OLD_SECRET = 'old-session-secret-0123456789abcdefghijklmnopq';
const NEW_SECRET = 'new-session-secret-0123456789abcdefghijklmnopq';
const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('base64');

let upstream: Upstream;
let before: Stack;
const stacks: Stack[] = [];

/** Another gateway on the same IdP client and Redis, as after a rolling restart with new settings. */
async function restartedWith(env: Record<string, string>): Promise<Stack> {
  const s = await startStack({
    redis: before.redis,
    sharedIdp: before.idp,
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
    env,
  });
  stacks.push(s);
  return s;
}

beforeAll(async () => {
  upstream = await startUpstream();
  before = await startStack({
    routes: [{ prefix: '/api', target: upstream.url, token: 'user' }],
    env: { SESSION_SECRET: OLD_SECRET, TOKEN_ENCRYPTION_KEY: OLD_KEY },
  });
});
afterAll(async () => {
  for (const s of stacks) await s.stop();
  await before?.stop();
  await upstream?.stop();
});

describe('key rotation: the first key signs and encrypts, every key verifies and decrypts', () => {
  it('sessions made with the old secret and key are served after adding new ones first', async () => {
    const alice = await signIn(before);
    const rotated = await restartedWith({
      SESSION_SECRET: `${NEW_SECRET},${OLD_SECRET}`,
      TOKEN_ENCRYPTION_KEY: `${NEW_KEY},${OLD_KEY}`,
    });
    const res = await fetch(`${rotated.baseUrl}/api/x`, { headers: { cookie: alice.cookie, 'x-csrf': '1' } });
    expect(res.status).toBe(200);
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(
      `Bearer ${(await alice.record()).tokens.accessToken}`,
    );

    // New sessions are sealed with the new key only. The gateway that checks it knows both session
    // secrets (so the cookie's signature is not what refuses it) but only the old encryption key.
    const bob = await signIn(rotated, 'bob');
    const oldKeyOnly = await restartedWith({
      SESSION_SECRET: `${NEW_SECRET},${OLD_SECRET}`,
      TOKEN_ENCRYPTION_KEY: OLD_KEY,
    });
    const stored = (await before.redis.client.getBuffer(rotated.parts.keys.session(bob.sid)))!;
    expect(stored).not.toBeNull();
    expect(openStoredSession(oldKeyOnly.parts.vault, bob.sid, stored)).toBeUndefined();
    expect(openStoredSession(rotated.parts.vault, bob.sid, stored)?.sub).toBe('bob');
    const session = (stack: Stack) =>
      fetch(`${stack.baseUrl}/auth/session`, { headers: { cookie: bob.cookie } });
    expect((await session(oldKeyOnly)).status).toBe(401);
    expect((await session(rotated)).status).toBe(200);
    // ...while alice's session, sealed with the old key, is still read there.
    expect(
      (await fetch(`${oldKeyOnly.baseUrl}/auth/session`, { headers: { cookie: alice.cookie } })).status,
    ).toBe(200);
  });

  it('once the old secret and key are removed, old sessions are no longer accepted', async () => {
    const carol = await signIn(before, 'carol');
    const only = await restartedWith({ SESSION_SECRET: NEW_SECRET, TOKEN_ENCRYPTION_KEY: NEW_KEY });
    expect((await fetch(`${only.baseUrl}/auth/session`, { headers: { cookie: carol.cookie } })).status).toBe(
      401,
    );
    expect(
      (await fetch(`${only.baseUrl}/api/x`, { headers: { cookie: carol.cookie, 'x-csrf': '1' } })).status,
    ).toBe(401);
  });
});
