/**
 * Logout racing a refresh (issue 9, item 6): another instance rotates the session's refresh token while
 * a logout is under way. Whatever the interleaving, the refresh token the IdP is asked to revoke must
 * be the last one stored, so nothing usable is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  signIn,
  startStack,
  type SignedIn,
  type Stack,
} from '../helpers/gateway.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A real refresh at the IdP, as the gateway on another instance would do it; the new refresh token. */
async function refreshAtIdp(refreshToken: string): Promise<string> {
  const res = await fetch(stack.idp.url('/token'), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const body = (await res.json()) as { refresh_token?: string; error?: string };
  if (typeof body.refresh_token !== 'string') throw new Error(`refresh failed: ${body.error}`);
  return body.refresh_token;
}

/**
 * Prepares the rotation another instance makes: a real refresh at the IdP, then a compare-and-set of the
 * stored record (exactly as the gateway's refresher writes), to be run when `rotate()` is called.
 */
async function prepareRotation(user: SignedIn): Promise<{ rotate: () => Promise<boolean>; newRt: string }> {
  const loaded = (await stack.parts.records.read(user.sid))!;
  const newRt = await refreshAtIdp(loaded.record.tokens.refreshToken!);
  const rotated = { ...loaded.record, tokens: { ...loaded.record.tokens, refreshToken: newRt } };
  return { newRt, rotate: async () => (await stack.parts.records.replace(loaded, rotated)) !== null };
}

function logout(user: SignedIn): Promise<Response> {
  return user.api('/auth/logout', { method: 'POST' });
}

describe('logout racing a refresh on another instance', () => {
  it('a rotation stored before the logout: the new refresh token is revoked', async () => {
    const user = await signIn(stack, 'alice');
    const { rotate, newRt } = await prepareRotation(user);
    expect(await rotate()).toBe(true);
    stack.idp.resetCounts();

    const res = await logout(user);
    expect(res.status).toBe(200);
    expect(stack.idp.revokedTokens).toEqual([newRt]);
    expect(await stack.redis.client.exists(stack.parts.keys.session(user.sid))).toBe(0);
  });

  it('a rotation landing while the logout is under way: the refresh token revoked is the last stored', async () => {
    const user = await signIn(stack, 'bob');
    const { rotate, newRt } = await prepareRotation(user);
    stack.idp.resetCounts();

    // The other instance's write lands at the latest moment it can: right after a read of the session
    // (a read-then-delete logout would still delete, and revoke what it read), or, for an atomic
    // read-and-delete, just before it (after it, the compare-and-set is refused: the key is gone).
    const kv = stack.parts.stores.kv;
    const sessionKey = stack.parts.keys.session(user.sid);
    const { getBytes, getBytesAndDelete } = kv;
    let rotations = 0;
    kv.getBytes = async (key) => {
      const value = await getBytes.call(kv, key);
      if (key === sessionKey && rotations++ === 0) expect(await rotate()).toBe(true);
      return value;
    };
    kv.getBytesAndDelete = async (key) => {
      if (key === sessionKey && rotations++ === 0) expect(await rotate()).toBe(true);
      return getBytesAndDelete.call(kv, key);
    };
    let res: Response;
    try {
      res = await logout(user);
    } finally {
      kv.getBytes = getBytes;
      kv.getBytesAndDelete = getBytesAndDelete;
    }
    expect(rotations).toBeGreaterThan(0);
    expect(res.status).toBe(200);
    expect(stack.idp.revokedTokens).toEqual([newRt]);
    expect(await stack.redis.client.exists(stack.parts.keys.session(user.sid))).toBe(0);
    await expect(refreshAtIdp(newRt)).rejects.toThrow(/invalid_grant/);
  });

  it('the record is deleted with one atomic command: a second logout finds nothing to revoke', async () => {
    const user = await signIn(stack, 'carol');
    const { refreshToken } = (await user.record()).tokens;
    stack.idp.resetCounts();
    const [first, second] = await Promise.all([logout(user), logout(user)]);
    expect([first.status, second.status]).toEqual([200, 200]);
    // Exactly one of the two held the record; the other took nothing.
    expect(stack.idp.revokedTokens).toEqual([refreshToken]);
  });
});
