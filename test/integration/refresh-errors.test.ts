/**
 * How the gateway treats each refusal of a refresh (contract: `session_expired` vs `idp_unavailable`),
 * attacked from the IdP's side: a hostile token endpoint in front of the real oidc-provider answers the
 * refresh itself (the provider never sees it, so the refresh token stays usable for the recovery).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getSetCookie } from '../helpers/cookie-jar.js';
import { signIn, startStack, type Stack } from '../helpers/gateway.js';
import type { TokenAnswer } from '../helpers/idp.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let upstream: Upstream;
let stack: Stack;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({
    routes: [
      { prefix: '/api', target: upstream.url, token: 'user' },
      { prefix: '/service', target: upstream.url, token: 'client', scopes: ['api:read'] },
    ],
  });
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  stack.idp.setTokenAnswer(undefined);
  stack.idp.resetCounts();
  stack.logs.clear();
  upstream.reset();
});

const json = (body: Record<string, unknown>): Pick<TokenAnswer, 'headers' | 'body'> => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
/** The refusal of a client whose Basic credentials the IdP does not accept (RFC 6749 §5.2). */
const BASIC_CHALLENGE: TokenAnswer = {
  status: 401,
  headers: { 'www-authenticate': 'Basic realm="idp"', 'content-type': 'application/json' },
  body: JSON.stringify({ error: 'invalid_client', error_description: 'client authentication failed' }),
};

interface Case {
  name: string;
  answer: TokenAnswer;
  outcome: 'kept' | 'ended';
  /** What the log line must name. */
  logged: { status: number; error?: string };
}

const CASES: Case[] = [
  {
    name: '401 + WWW-Authenticate: Basic, invalid_client in the body',
    answer: BASIC_CHALLENGE,
    outcome: 'kept',
    logged: { status: 401, error: 'invalid_client' },
  },
  {
    name: '401 + WWW-Authenticate with the error in the challenge, no body',
    answer: { status: 401, headers: { 'www-authenticate': 'Basic realm="idp", error="invalid_client"' } },
    outcome: 'kept',
    logged: { status: 401, error: 'invalid_client' },
  },
  {
    name: '401 invalid_client without a challenge',
    answer: { status: 401, ...json({ error: 'invalid_client' }) },
    outcome: 'kept',
    logged: { status: 401, error: 'invalid_client' },
  },
  {
    name: '401 invalid_grant (any 401 is about the client)',
    answer: { status: 401, ...json({ error: 'invalid_grant' }) },
    outcome: 'kept',
    logged: { status: 401, error: 'invalid_grant' },
  },
  {
    name: '429 with an OAuth body',
    answer: {
      status: 429,
      headers: { 'retry-after': '5', ...json({}).headers },
      body: '{"error":"slow_down"}',
    },
    outcome: 'kept',
    logged: { status: 429, error: 'slow_down' },
  },
  {
    name: '429 without a body',
    answer: { status: 429, headers: { 'retry-after': '5' } },
    outcome: 'kept',
    logged: { status: 429 },
  },
  {
    name: '403 access_denied',
    answer: { status: 403, ...json({ error: 'access_denied' }) },
    outcome: 'kept',
    logged: { status: 403, error: 'access_denied' },
  },
  {
    name: '400 unsupported_grant_type',
    answer: { status: 400, ...json({ error: 'unsupported_grant_type' }) },
    outcome: 'kept',
    logged: { status: 400, error: 'unsupported_grant_type' },
  },
  {
    name: '503 with an HTML page',
    answer: { status: 503, headers: { 'content-type': 'text/html' }, body: '<h1>down</h1>' },
    outcome: 'kept',
    logged: { status: 503 },
  },
  {
    name: '400 invalid_grant',
    answer: {
      status: 400,
      ...json({ error: 'invalid_grant', error_description: 'grant request is invalid' }),
    },
    outcome: 'ended',
    logged: { status: 400, error: 'invalid_grant' },
  },
  {
    name: '400 invalid_request',
    answer: { status: 400, ...json({ error: 'invalid_request' }) },
    outcome: 'ended',
    logged: { status: 400, error: 'invalid_request' },
  },
];

/** The log line of the refresh failure (kept or ended) and its `idp` field. */
function refreshLogLine(): Record<string, unknown> | undefined {
  return stack.logs
    .json()
    .find((l) => /^refresh failed|^session ended by refresh/.test(String(l.msg)) && 'idp' in l);
}

describe('a refused refresh: terminal only for invalid_grant or a 400 invalid_request', () => {
  it.each(CASES)('$name: session $outcome', async ({ answer, outcome, logged }) => {
    const alice = await signIn(stack);
    await alice.expireAccessToken();
    const before = await alice.record();
    const key = stack.parts.keys.session(alice.sid);

    stack.idp.setTokenAnswer(answer);
    const res = await alice.api('/api/x');
    stack.idp.setTokenAnswer(undefined);
    expect(stack.idp.answeredTokenRequests.map((p) => p.get('grant_type'))).toEqual(['refresh_token']);
    expect(upstream.requests).toHaveLength(0);
    const line = refreshLogLine();
    expect(line?.idp).toMatchObject(logged);

    if (outcome === 'ended') {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'session_expired', message: expect.any(String) });
      expect(getSetCookie(res, 'bff-session')?.value).toBe('');
      expect(await stack.redis.client.exists(key)).toBe(0);
      return;
    }
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'idp_unavailable', message: expect.any(String) });
    expect(getSetCookie(res, 'bff-session')).toBeUndefined();
    expect(await stack.redis.client.exists(key)).toBe(1);
    expect((await alice.record()).tokens.refreshToken).toBe(before.tokens.refreshToken);

    // The IdP recovers: the very same session refreshes and is served.
    const again = await alice.api('/api/y');
    expect(again.status).toBe(200);
    expect(stack.idp.counts.grants.refresh_token).toBe(1);
    expect(upstream.bearerTokens()).toEqual([(await alice.record()).tokens.accessToken]);
  });

  it('invalid_client behind a 401 challenge is logged as an error naming it and the status', async () => {
    const alice = await signIn(stack);
    await alice.expireAccessToken();
    stack.idp.setTokenAnswer(BASIC_CHALLENGE);
    expect((await alice.api('/api/x')).status).toBe(503);
    const line = refreshLogLine();
    expect(line).toMatchObject({
      level: 'error',
      msg: 'refresh failed (misconfigured); session kept',
      idp: {
        status: 401,
        error: 'invalid_client',
        error_description: 'client authentication failed',
        challenge: 'basic',
      },
    });
  });
});

describe('client-credentials routes refused by a 401 challenge', () => {
  it('503 idp_unavailable, logged with invalid_client and the status; served once the IdP recovers', async () => {
    stack.idp.setTokenAnswer(BASIC_CHALLENGE);
    const res = await fetch(`${stack.baseUrl}/service/a`, { headers: { 'x-csrf': '1' } });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'idp_unavailable', message: expect.any(String) });
    expect(stack.idp.answeredTokenRequests.map((p) => p.get('grant_type'))).toEqual(['client_credentials']);
    const line = stack.logs.json().find((l) => l.msg === 'client-credentials token request failed');
    expect(line?.idp).toMatchObject({ status: 401, error: 'invalid_client', challenge: 'basic' });
    expect(upstream.requests).toHaveLength(0);

    stack.idp.setTokenAnswer(undefined);
    expect((await fetch(`${stack.baseUrl}/service/b`, { headers: { 'x-csrf': '1' } })).status).toBe(200);
    expect(stack.idp.counts.grants.client_credentials).toBe(1);
  });
});
