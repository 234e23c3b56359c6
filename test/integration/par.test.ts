/**
 * Issue 12, pushed authorization requests (RFC 9126) against the real oidc-provider: with OIDC_PAR,
 * or when the IdP requires them, the gateway POSTs the authorization request to the IdP's PAR
 * endpoint with its client authentication (secret or private_key_jwt), and the browser's redirect
 * carries only `client_id` and `request_uri`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '../helpers/browser.js';
import { CLIENT_SECRET, sessionIdFromCookie, startStack, type Stack } from '../helpers/gateway.js';
import { startIdp, type IdpClient, type TestIdp } from '../helpers/idp.js';
import { callback, completeAtIdp } from '../helpers/login.js';

let idp: TestIdp;
const stacks: Stack[] = [];
/** What the IdP's PAR endpoint accepted: the client, how it authenticated, the pushed parameters. */
const pushed: Array<{ clientId: string; authorization: string; params: Record<string, unknown> }> = [];

beforeAll(async () => {
  idp = await startIdp({ clients: [] });
  idp.provider.on('pushed_authorization_request.success', (...args: unknown[]) => {
    const ctx = args[0] as KoaContextWithOIDC;
    pushed.push({
      clientId: ctx.oidc.client!.clientId,
      authorization: ctx.get('authorization'),
      params: { ...(ctx.oidc.params as Record<string, unknown>) },
    });
  });
});
afterAll(async () => {
  for (const stack of stacks) await stack.stop();
  await idp?.stop();
});

async function gateway(env: Record<string, string>): Promise<Stack> {
  const stack = await startStack({ sharedIdp: idp, env, loginRateLimit: 0 });
  stacks.push(stack);
  return stack;
}

/** GET /auth/login?…: the redirect to the IdP. */
async function start(stack: Stack, browser: TestBrowser, query: string): Promise<Response> {
  const res = await browser.fetch(`${stack.baseUrl}/auth/login?${query}`);
  await res.body?.cancel();
  return res;
}

/** Signs in through the redirect; the stored session's subject. */
async function finish(stack: Stack, browser: TestBrowser, authorizeUrl: URL, login: string) {
  const { response } = await callback(browser, await completeAtIdp(browser, authorizeUrl, login));
  expect(response.status).toBe(200);
  const sid = sessionIdFromCookie(browser.jar.get(stack.baseUrl, 'bff-session')!);
  return (await stack.parts.records.read(sid))?.record;
}

/** The redirect carries client_id and request_uri, nothing else. */
function expectPushedRedirect(authorizeUrl: URL, clientId: string): void {
  expect([...authorizeUrl.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  expect(authorizeUrl.searchParams.get('client_id')).toBe(clientId);
  expect(authorizeUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
  expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(idp.url('/auth'));
}

describe('OIDC_PAR=true', () => {
  it('client_secret_basic: the request is pushed with Basic credentials; the redirect has only client_id and request_uri', async () => {
    const stack = await gateway({ OIDC_PAR: 'true' });
    const clientId = stack.config.oidc.clientId;
    const browser = stack.browser();
    idp.resetCounts();
    pushed.length = 0;
    const res = await start(stack, browser, 'returnTo=%2Forders&login_hint=alice&ui_locales=de');
    expect(res.status).toBe(302);
    const authorizeUrl = new URL(res.headers.get('location')!);
    expectPushedRedirect(authorizeUrl, clientId);

    expect(pushed).toHaveLength(1);
    const basic = Buffer.from(pushed[0]!.authorization.replace(/^Basic /, ''), 'base64').toString();
    expect(basic).toBe(`${clientId}:${CLIENT_SECRET}`);
    expect(pushed[0]!.params).toMatchObject({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: `${stack.baseUrl}/auth/callback`,
      // (the provider drops offline_access without prompt=consent, as for a plain request)
      scope: expect.stringMatching(/^openid profile email/),
      code_challenge_method: 'S256',
      login_hint: 'alice',
      ui_locales: 'de',
    });
    for (const name of ['state', 'nonce', 'code_challenge'])
      expect(pushed[0]!.params[name]).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    // The state and PKCE challenge travel only in the pushed request, never through the browser.
    expect(authorizeUrl.href).not.toContain(String(pushed[0]!.params.state));

    const record = await finish(stack, browser, authorizeUrl, 'alice');
    expect(record?.sub).toBe('alice');
    expect([...idp.lastAuthorizationRequests[0]!.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(idp.counts.grants).toEqual({ authorization_code: 1 });
  });

  it('private_key_jwt: the pushed request carries a fresh client assertion', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bff-par-key-'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPath = path.join(dir, 'key.pem');
    writeFileSync(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const clientId = 'bff-par-pkjwt';
    const stack = await gateway({
      OIDC_PAR: 'true',
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: '',
      OIDC_CLIENT_PRIVATE_KEY: keyPath,
    });
    const client: IdpClient = {
      client_id: clientId,
      client_secret: 'unused-by-private-key-jwt-0123456789',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...publicJwk, kid }] },
      redirect_uris: [`${stack.baseUrl}/auth/callback`],
    };
    idp.addClient(client);
    idp.resetCounts();
    pushed.length = 0;
    const browser = stack.browser();
    const res = await start(stack, browser, 'returnTo=%2F');
    expect(res.status).toBe(302);
    const authorizeUrl = new URL(res.headers.get('location')!);
    expectPushedRedirect(authorizeUrl, clientId);
    expect(pushed.map((p) => [p.clientId, p.authorization])).toEqual([[clientId, '']]);

    expect((await finish(stack, browser, authorizeUrl, 'bob'))?.sub).toBe('bob');
    const paths = idp.clientAssertions.map((a) => a.path);
    expect(paths).toEqual(['/request', '/token']);
    const [par, token] = idp.clientAssertions.map((a) => decodeJwt(a.assertion));
    expect(par).toMatchObject({ iss: clientId, sub: clientId, aud: idp.issuer });
    expect(par!.jti).not.toBe(token!.jti);
    expect(idp.basicUsers).toEqual([]);
  });

  it('an IdP without a PAR endpoint: 503 idp_unavailable, nothing stored, and the reason logged', async () => {
    idp.rewriteResponses((p, body) => {
      if (p !== '/.well-known/openid-configuration') return body;
      const { pushed_authorization_request_endpoint: _dropped, ...rest } = body;
      return rest;
    });
    let stack: Stack;
    try {
      stack = await gateway({ OIDC_PAR: 'true' });
    } finally {
      idp.rewriteResponses(undefined);
    }
    expect(stack.logs.text()).toContain('no pushed_authorization_request_endpoint');
    const browser = stack.browser();
    const res = await browser.fetch(`${stack.baseUrl}/auth/login?returnTo=%2F`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('idp_unavailable');
    expect(res.headers.get('location')).toBeNull();
    expect(await stack.redis.client.keys('bff:*login*')).toEqual([]);
  });
});

describe('an IdP that requires PAR', () => {
  it('is sent pushed requests without OIDC_PAR; a plain request would be refused there', async () => {
    const strict = await startIdp({ clients: [], requirePar: true });
    try {
      const stack = await startStack({ sharedIdp: strict, loginRateLimit: 0 });
      stacks.push(stack);
      expect(stack.config.oidc.par).toBe(false);
      const clientId = stack.config.oidc.clientId;
      const seen: string[] = [];
      strict.provider.on('pushed_authorization_request.success', (...args: unknown[]) => {
        seen.push((args[0] as KoaContextWithOIDC).get('authorization'));
      });
      const browser = stack.browser();
      const res = await start(stack, browser, 'returnTo=%2F');
      const authorizeUrl = new URL(res.headers.get('location')!);
      expect([...authorizeUrl.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^Basic /);
      const { response } = await callback(browser, await completeAtIdp(browser, authorizeUrl, 'alice'));
      expect(response.status).toBe(200);
      expect(strict.counts.grants).toEqual({ authorization_code: 1 });

      // The same request unpushed (what a gateway that ignored the IdP's requirement would send).
      const plain = new URL(strict.url('/auth'));
      for (const [k, v] of Object.entries({
        client_id: clientId,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: `${stack.baseUrl}/auth/callback`,
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
        state: 's',
      }))
        plain.searchParams.set(k, v);
      // The IdP refuses it, back to the redirect URI: invalid_request, "PAR is required".
      const refused = await browser.fetch(plain);
      await refused.body?.cancel();
      const answer = new URL(refused.headers.get('location')!);
      expect(`${answer.origin}${answer.pathname}`).toBe(`${stack.baseUrl}/auth/callback`);
      expect(answer.searchParams.get('error')).toBe('invalid_request');
      expect(answer.searchParams.get('error_description')).toMatch(/pushed authorization request/i);
    } finally {
      await strict.stop();
    }
  });
});

describe('a pushed request that fails', () => {
  it("the IdP's refusal is the error page naming its code; an unreachable IdP is 503; nothing stored", async () => {
    // response_mode=bogus: the PAR endpoint refuses the request (unsupported_response_mode).
    const stack = await gateway({ OIDC_PAR: 'true', OIDC_AUTH_PARAMS: 'response_mode=bogus' });
    const browser = stack.browser();
    pushed.length = 0;
    const refused = await browser.fetch(`${stack.baseUrl}/auth/login?returnTo=%2F`);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('location')).toBeNull();
    expect(await refused.text()).toContain('<code id="error-code">unsupported_response_mode</code>');
    expect(pushed).toEqual([]);

    idp.setDown(true);
    try {
      const down = await browser.fetch(`${stack.baseUrl}/auth/login?returnTo=%2F`);
      expect(down.status).toBe(503);
      expect(await down.text()).toContain('idp_unavailable');
    } finally {
      idp.setDown(false);
    }
    expect(await stack.redis.client.keys('bff:*login*')).toEqual([]);
    expect(stack.logs.text()).toContain('pushed authorization request refused');
  });
});
