/**
 * The SPA client's silent sign-in (prompt=none) and its step-up loop guard, against a real local HTTP
 * server standing in for the gateway's /auth/session and an /api route. Navigation, the address bar
 * and sessionStorage are the browser effects the test records (a Map-backed storage).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createBffClient,
  loginErrorOf,
  withoutLoginError,
  type BffClientOptions,
  type KeyValueStorage,
} from '../../client/bff-client.js';

let server: Server;
let base: string;
const requests: string[] = [];
/** What /auth/session and /api/* answer. */
let signedIn = false;
let apiAnswer: { status: number; body: unknown } = { status: 200, body: {} };

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const answer =
      req.url === '/auth/session'
        ? signedIn
          ? { status: 200, body: { authenticated: true, user: { sub: 'alice' }, expiresAt: 1 } }
          : { status: 401, body: { error: 'unauthenticated', message: 'no session' } }
        : apiAnswer;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let navigations: string[];
let replaced: string[];
let stored: Map<string, string>;
let clock: number;
let here: string;
/** Resolves at the next navigation (the client's promise never settles then: the page is leaving). */
let navigated: Promise<string>;
let onNavigate: (url: string) => void;

beforeEach(() => {
  requests.length = 0;
  signedIn = false;
  apiAnswer = { status: 200, body: {} };
  navigations = [];
  replaced = [];
  stored = new Map();
  clock = 1_000_000;
  here = '/orders?page=2#top';
  navigated = new Promise((resolve) => (onNavigate = resolve));
});

const storage: KeyValueStorage = {
  getItem: (k) => stored.get(k) ?? null,
  setItem: (k, v) => void stored.set(k, v),
  removeItem: (k) => void stored.delete(k),
};

function client(options: BffClientOptions = {}) {
  return createBffClient({
    baseUrl: base,
    navigate: (url) => {
      navigations.push(url);
      onNavigate(url);
    },
    currentPath: () => here,
    replacePath: (path) => replaced.push(path),
    storage,
    now: () => clock,
    retry: false,
    ...options,
  });
}

/** Whether a promise is still pending once everything queued so far has run. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([p, new Promise((resolve) => setImmediate(() => resolve(marker)))])) === marker;
}

/** A silent sign-in that leaves the page: awaits its navigation, checks it stays pending. */
async function leaveSilently(returnTo?: string): Promise<void> {
  const attempt = client().trySilentLogin(returnTo);
  await navigated;
  expect(await pending(attempt)).toBe(true);
  navigated = new Promise((resolve) => (onNavigate = resolve));
}

describe('trySilentLogin()', () => {
  it('signed out: navigates to /auth/login?prompt=none with the current page as returnTo, and stays pending', async () => {
    const attempt = client().trySilentLogin();
    expect(await navigated).toBe(
      `${base}/auth/login?prompt=none&returnTo=${encodeURIComponent('/orders?page=2#top')}`,
    );
    expect(requests).toEqual(['/auth/session']);
    expect(await pending(attempt)).toBe(true);
    expect([...stored.keys()]).toEqual(['bff-client:silent-login']);
  });

  it('back with login_error: resolves null without a request, and removes login_error from the address bar', async () => {
    await leaveSilently('/start');
    expect(navigations).toEqual([`${base}/auth/login?prompt=none&returnTo=%2Fstart`]);
    here = '/start?x=1&login_error=login_required#frag';
    await expect(client().trySilentLogin()).resolves.toBeNull();
    expect(replaced).toEqual(['/start?x=1#frag']);
    expect(requests).toEqual(['/auth/session']); // only the first call's
    expect(stored.size).toBe(0);
    expect(navigations).toHaveLength(1);
  });

  it('back signed in: resolves with the session and forgets the attempt', async () => {
    await leaveSilently();
    signedIn = true;
    await expect(client().trySilentLogin()).resolves.toMatchObject({ user: { sub: 'alice' } });
    expect(stored.size).toBe(0);
    expect(navigations).toHaveLength(1);
  });

  it('already signed in: the session, no navigation', async () => {
    signedIn = true;
    await expect(client().trySilentLogin()).resolves.toMatchObject({ authenticated: true });
    expect(navigations).toEqual([]);
  });

  it('an attempt that came back without a session or login_error is not repeated within a minute', async () => {
    await leaveSilently();
    clock += 59_000;
    await expect(client().trySilentLogin()).resolves.toBeNull();
    expect(navigations).toHaveLength(1);
    // A minute later it is a new attempt.
    clock += 61_000;
    await leaveSilently();
    expect(navigations).toHaveLength(2);
  });
});

describe('step_up_required loop guard', () => {
  const loginUrl = '/auth/login?acr_values=urn%3Aexample%3Amfa';

  it('navigates to the step-up once; the same step-up again within a minute only rejects', async () => {
    apiAnswer = { status: 401, body: { error: 'step_up_required', message: 'm', loginUrl } };
    await expect(client().api('/api/admin')).rejects.toMatchObject({ code: 'step_up_required', loginUrl });
    expect(navigations).toEqual([`${base}${loginUrl}&returnTo=${encodeURIComponent(here)}`]);
    // Back from the IdP, whose sign-in still does not satisfy the route: no second trip.
    clock += 5_000;
    await expect(client().api('/api/admin')).rejects.toMatchObject({ code: 'step_up_required', loginUrl });
    expect(navigations).toHaveLength(1);
    // Another step-up (a different loginUrl), or the same one a minute later, navigates again.
    const other = '/auth/login?max_age=60';
    apiAnswer = { status: 401, body: { error: 'step_up_required', message: 'm', loginUrl: other } };
    await expect(client().api('/api/admin')).rejects.toMatchObject({ loginUrl: other });
    apiAnswer = { status: 401, body: { error: 'step_up_required', message: 'm', loginUrl } };
    clock += 60_000;
    await expect(client().api('/api/admin')).rejects.toMatchObject({ loginUrl });
    expect(navigations.slice(1)).toEqual([
      `${base}${other}&returnTo=${encodeURIComponent(here)}`,
      `${base}${loginUrl}&returnTo=${encodeURIComponent(here)}`,
    ]);
  });
});

describe('login_error helpers', () => {
  it.each([
    ['/?login_error=login_required', '/'],
    ['/a?login_error=consent_required&b=2#h', '/a?b=2#h'],
    ['/a?b=%20x&login_error=x&login_error=y', '/a?b=%20x'],
    ['/a#login_error=x', '/a#login_error=x'],
  ])('%s without login_error is %s', (path, expected) => {
    expect(withoutLoginError(path)).toBe(expected);
  });

  it('reads login_error from the query only', () => {
    expect(loginErrorOf('/a?login_error=interaction_required')).toBe('interaction_required');
    expect(loginErrorOf('/a#login_error=x')).toBeUndefined();
    expect(loginErrorOf('/a')).toBeUndefined();
  });
});
