/**
 * The world the adversarial /auth corpus files share (issue 9, deliverable 6): one real stack with
 * back-channel logout registered, two signed-in users, a raw keep-alive client, the IdP's signing key
 * and a foreign one, and the checks every batch ends with (/healthz answers, no session appeared or
 * ended, no pending login left over). Logins the corpus starts are taken again after each case. When
 * the file ends, the case counts, outcomes and answers outside the contract's words are printed.
 */
import fc from 'fast-check';
import { generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, expect } from 'vitest';
import { PendingLogins } from '../../src/session/pending-logins.js';
import { configureCorpus, Outcomes, RawClient, rawRequest } from './arbitraries.js';
import { CLIENT_SECRET, SESSION_SECRET, signIn, startStack, type SignedIn, type Stack } from './gateway.js';
import { getSigningKey } from './idp.js';
import type { RawResponse } from './raw-http.js';

export const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export type SigningKey = Parameters<SignJWT['sign']>[0];

export interface AuthCorpusUser {
  who: SignedIn;
  sub: string;
  idpSid: string | undefined;
}

/** Starts the /auth corpus stack for the calling file; `label` names its case count line. */
export function useAdversarialAuthStack(label: string) {
  configureCorpus();
  let stack: Stack;
  let users: AuthCorpusUser[];
  let host: string;
  let client: RawClient;
  let secrets: string[];
  let pending: PendingLogins;
  let idpKey: SigningKey;
  let foreignKey: SigningKey;
  const ran: Record<string, number> = {};
  const outcomes = new Outcomes();
  const findings = new Set<string>();

  beforeAll(async () => {
    stack = await startStack({
      backchannel: true,
      idp: { accessTokenTtl: 3600 },
      loginRateLimit: 1_000_000,
      env: { LOG_LEVEL: 'warn' },
    });
    host = new URL(stack.baseUrl).host;
    client = new RawClient(Number(new URL(stack.baseUrl).port));
    pending = new PendingLogins(stack.parts.stores.pendingLogins, stack.parts.vault, stack.parts.keys);
    users = [];
    secrets = [SESSION_SECRET, CLIENT_SECRET];
    for (const login of ['alice', 'bob']) {
      const who = await signIn(stack, login);
      const record = await who.record();
      users.push({ who, sub: record.sub, idpSid: record.idpSid });
      const value = /bff-session=([^;]+)/.exec(who.cookie)![1]!;
      secrets.push(value, decodeURIComponent(value), who.sid, record.tokens.accessToken);
      if (record.tokens.refreshToken) secrets.push(record.tokens.refreshToken);
      if (record.tokens.idToken) secrets.push(record.tokens.idToken);
    }
    idpKey = await importJWK(await getSigningKey(), 'RS256');
    foreignKey = (await generateKeyPair('RS256')).privateKey;
  }, 60_000);

  afterAll(async () => {
    const total = Object.values(ran).reduce((a, b) => a + b, 0);
    console.log(`adversarial (auth, ${label}): ${total} cases ${JSON.stringify(ran)}\n${outcomes.summary()}`);
    if (findings.size > 0)
      console.log(
        `adversarial (auth, ${label}): answers outside the contract's words, reported (not failed):\n${[...findings].join('\n')}`,
      );
    client?.drop();
    await stack?.stop();
  });

  const count = (name: string) => {
    ran[name] = (ran[name] ?? 0) + 1;
  };
  const keyCount = async (pattern: string) => (await stack.redis.client.keys(pattern)).length;

  /** Runs a property, then: /healthz answers, no session appeared or ended, no pending login is left over. */
  async function runBatch(
    name: string,
    numRuns: number,
    property: fc.IAsyncProperty<[unknown]>,
  ): Promise<void> {
    const sessions = await keyCount('bff:*:session');
    const logins = await keyCount('bff:*:login:*');
    const startedAt = ran[name] ?? 0;
    await fc.assert(property, { numRuns });
    expect((ran[name] ?? 0) - startedAt).toBeGreaterThanOrEqual(numRuns);
    const health = await client.send(rawRequest('GET', '/healthz', host, []));
    expect(health === 'closed' ? 'closed' : health.status).toBe(200);
    expect(await keyCount('bff:*:session')).toBe(sessions);
    expect(await keyCount('bff:*:login:*')).toBe(logins);
    await expectUsersSignedIn();
  }

  async function expectUsersSignedIn(): Promise<void> {
    for (const u of users)
      expect(await stack.redis.client.exists(stack.parts.keys.session(u.who.sid))).toBe(1);
  }

  function answered(res: RawResponse | 'closed', what: string): RawResponse {
    if (res === 'closed') throw new Error(`connection closed without an answer: ${what}`);
    return res;
  }

  /** A login cookie (`bff-login`) value: the format the gateway issues, or not. */
  const loginCookieValue = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    fc.stringMatching(/^[A-Za-z0-9_=.%-]{0,60}$/),
    fc.integer({ min: 100, max: 6_000 }).map((n) => 'L'.repeat(n)),
  );

  const loginCookie = fc.option(
    fc
      .array(loginCookieValue, { minLength: 1, maxLength: 2 })
      .map((vs) => vs.map((v) => `bff-login=${v}`).join('; ')),
    { nil: undefined },
  );

  /** Login attempts the corpus started: taken after each case, so none is left over in the store. */
  const started: Array<{ loginId: string; state: string }> = [];

  /** Starts a login (as a browser with login cookie `cookie`, or a new one); returns its cookie and state. */
  async function startLogin(cookie: string | undefined): Promise<{ cookie: string; state: string }> {
    const res = answered(
      await client.send(rawRequest('GET', '/auth/login', host, cookie ? [`Cookie: ${cookie}`] : [])),
      'login start',
    );
    expect(res.status).toBe(302);
    const loginId = /bff-login=([^;]+)/.exec(res.header('set-cookie') ?? '')![1]!;
    const state = new URL(res.header('location')!).searchParams.get('state')!;
    started.push({ loginId, state });
    return { cookie: `bff-login=${loginId}`, state };
  }

  async function takeStartedLogins(): Promise<void> {
    for (const { loginId, state } of started.splice(0)) await pending.take(loginId, state);
  }

  return {
    get stack() {
      return stack;
    },
    get users() {
      return users;
    },
    get host() {
      return host;
    },
    get client() {
      return client;
    },
    get secrets() {
      return secrets;
    },
    get pending() {
      return pending;
    },
    get idpKey() {
      return idpKey;
    },
    get foreignKey() {
      return foreignKey;
    },
    outcomes,
    findings,
    count,
    runBatch,
    expectUsersSignedIn,
    answered,
    loginCookie,
    startLogin,
    takeStartedLogins,
  };
}
