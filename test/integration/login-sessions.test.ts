/**
 * Sessions created by login: a new id at every login (fixation), parallel logins in one browser, the
 * pending-login cap; and what Redis holds at rest (no token, no session id, TTLs, sealed by the cookie).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SECRET, sessionIdFromCookie, type Stack } from '../helpers/gateway.js';
import { callback, completeAtIdp, loginThroughIdp, startLogin } from '../helpers/login.js';
import { openStoredSession } from '../../src/session/records/sealed-record.js';
import { useLoginStack } from '../helpers/login-stack.js';

const world = useLoginStack();
const { secrets, sessionCookie, storedSession } = world;
let stack: Stack;
beforeAll(() => {
  stack = world.stack;
});

describe('sessions', () => {
  it('a new session id at every login (fixation), and the old session is deleted', async () => {
    const browser = stack.browser();
    const held: string[] = [];
    browser.jar.set(stack.baseUrl, 'bff-session', 'planted-by-attacker');
    held.push('planted-by-attacker');
    await loginThroughIdp(browser, stack.baseUrl, { login: 'alice' });
    const first = sessionCookie(browser)!;
    held.push(first);
    const firstSid = sessionIdFromCookie(first);
    await storedSession(browser);

    await loginThroughIdp(browser, stack.baseUrl, { login: 'alice' });
    const second = sessionCookie(browser)!;
    const secondSid = sessionIdFromCookie(second);
    await storedSession(browser);
    for (const old of held) expect(second).not.toBe(old);
    expect(secondSid).not.toBe(firstSid);
    expect(await stack.redis.client.exists(stack.parts.keys.session(firstSid))).toBe(0);
    expect(await stack.redis.client.exists(stack.parts.keys.session(secondSid))).toBe(1);
  });

  it('two logins started in parallel in one browser (two tabs) both succeed', async () => {
    const browser = stack.browser();
    // Tab A and tab B each start a login before either returns from the IdP.
    const a = await startLogin(browser, stack.baseUrl, '/tab-a');
    const b = await startLogin(browser, stack.baseUrl, '/tab-b');
    const cbA = await completeAtIdp(browser, a, 'alice');
    const cbB = await completeAtIdp(browser, b, 'alice');
    const [ra, rb] = await Promise.all([callback(browser, cbA), callback(browser, cbB)]);
    expect(ra.response.status).toBe(200);
    expect(rb.response.status).toBe(200);
    expect(ra.body).toContain('url=/tab-a');
    expect(rb.body).toContain('url=/tab-b');
    expect((await browser.fetch(`${stack.baseUrl}/auth/session`)).status).toBe(200);
  });

  it('a sixth pending login evicts the oldest', async () => {
    const browser = stack.browser();
    const starts: URL[] = [];
    for (let i = 0; i < 6; i++) starts.push(await startLogin(browser, stack.baseUrl, `/n${i}`));
    const oldest = await completeAtIdp(browser, starts[0]!, 'alice');
    const newest = await completeAtIdp(browser, starts[5]!, 'alice');
    secrets.add(oldest.searchParams.get('code')!);
    const evicted = await callback(browser, oldest);
    expect(evicted.response.status).toBe(400);
    expect(evicted.body).toContain('invalid_state');
    expect((await callback(browser, newest)).response.status).toBe(200);
  });
});

describe('at rest', () => {
  it('Redis holds no token and no session id, every key has a TTL, and nothing decrypts without the cookie', async () => {
    const browser = stack.browser();
    await loginThroughIdp(browser, stack.baseUrl);
    await startLogin(browser, stack.baseUrl); // a pending login too
    const { sid, record } = await storedSession(browser);
    const dump = await stack.redis.dumpAll();
    expect(dump.length).toBeGreaterThan(0);
    const everything = JSON.stringify(dump);
    for (const secret of [
      record.tokens.accessToken,
      record.tokens.refreshToken!,
      record.tokens.idToken!,
      sid,
      'alice@example.com',
    ]) {
      expect(everything).not.toContain(secret);
    }
    for (const entry of dump) {
      expect(entry.key.startsWith('bff:')).toBe(true);
      expect(entry.ttlMs, entry.key).toBeGreaterThan(0);
    }
    // The session key lives exactly until the idle end (30 min).
    const ttl = dump.find((e) => e.key === stack.parts.keys.session(sid))!.ttlMs;
    expect(ttl).toBeGreaterThan(29 * 60_000);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);

    // An attacker with the dump and the gateway's configuration (its vault) but not the cookie:
    const key = stack.parts.keys.session(sid);
    const raw = (await stack.redis.client.getBuffer(key))!;
    const hashInKey = /\{([^}]+)\}/.exec(key)![1]!;
    for (const guess of ['', key, hashInKey, 'alice', CLIENT_SECRET]) {
      expect(stack.parts.vault.openBytes(raw, guess, 'session')).toBeUndefined();
      expect(openStoredSession(stack.parts.vault, guess, raw)).toBeUndefined();
    }
    // ...while the browser's cookie opens it (so the test above is not vacuous).
    expect(openStoredSession(stack.parts.vault, sid, raw)?.tokens.accessToken).toBe(
      record.tokens.accessToken,
    );
  });
});
