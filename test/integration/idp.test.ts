import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, sessionIdFromCookie, startStack, type Stack } from '../helpers/gateway.js';
import { loginThroughIdp, startLogin } from '../helpers/login.js';
import { createHash } from 'node:crypto';

const stacks: Stack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stop()));
});
async function stack(options: Parameters<typeof startStack>[0]): Promise<Stack> {
  const s = await startStack(options);
  stacks.push(s);
  return s;
}

describe('any OpenID Provider by configuration', () => {
  it('client_secret_post works against a client registered that way', async () => {
    const s = await stack({ clientAuth: 'client_secret_post' });
    const browser = s.browser();
    const result = await loginThroughIdp(browser, s.baseUrl, { login: 'bob' });
    expect(result.callbackResponse.status).toBe(200);
    const session = await browser.fetch(`${s.baseUrl}/auth/session`);
    expect(((await session.json()) as { user: { name: string } }).user.name).toBe('Bob Builder');
    expect(s.idp.counts.grants.authorization_code).toBe(1);
    expect(s.idp.tokenRequestAuth).toEqual(['body']);
  });

  it('client_secret_basic (the default) sends the credentials in the Authorization header', async () => {
    const s = await stack({});
    expect((await loginThroughIdp(s.browser(), s.baseUrl)).callbackResponse.status).toBe(200);
    expect(s.idp.tokenRequestAuth).toEqual(['basic']);
  });

  it('the PKCE verifier stored for the attempt matches the S256 challenge sent', async () => {
    const s = await stack({});
    const browser = s.browser();
    const authorize = await startLogin(browser, s.baseUrl);
    const state = authorize.searchParams.get('state')!;
    const loginId = browser.jar.get(s.baseUrl, 'bff-login')!;
    const raw = await s.redis.client.get(s.parts.keys.pendingLogin(loginId, state));
    const pending = JSON.parse(s.parts.vault.open(raw!, `${loginId}.${state}`, 'pending-login')!) as {
      codeVerifier: string;
    };
    expect(pending.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(createHash('sha256').update(pending.codeVerifier).digest('base64url')).toBe(
      authorize.searchParams.get('code_challenge'),
    );
    expect(s.logs.text()).not.toContain(pending.codeVerifier);
    expect(JSON.stringify(await s.redis.dumpAll())).not.toContain(pending.codeVerifier);
  });

  it('warns once per missing capability in the IdP metadata', async () => {
    const s = await stack({ idp: { revocation: false } });
    const warnings = s.logs
      .json()
      .filter((l) => l.level === 'warn')
      .map((l) => String(l.msg));
    expect(warnings.filter((w) => w.includes('revocation_endpoint'))).toHaveLength(1);
    expect(warnings.some((w) => w.includes('end_session_endpoint'))).toBe(false);
    expect(warnings.some((w) => w.includes('S256'))).toBe(false);

    // Logout still works without revocation: the session is deleted, the refresh token stays usable at the IdP.
    const browser = s.browser();
    await loginThroughIdp(browser, s.baseUrl);
    const sid = sessionIdFromCookie(browser.jar.get(s.baseUrl, 'bff-session')!);
    const rt = (await s.parts.records.read(sid))!.record.tokens.refreshToken!;
    const res = await browser.fetch(`${s.baseUrl}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf': '1' },
    });
    expect(res.status).toBe(200);
    expect(await s.redis.client.exists(s.parts.keys.session(sid))).toBe(0);
    expect((await s.idp.introspect(rt, CLIENT_ID, CLIENT_SECRET)).active).toBe(true);
  });

  it('starts while the IdP is down: /healthz 200, /readyz and /auth/login 503 until discovery succeeds', async () => {
    const s = await stack({});
    // This stack's IdP was up at start; take it down and restart discovery on a fresh gateway instead.
    await s.gateway.close();
    s.idp.setDown(true);
    const again = await stack({ sharedIdp: s.idp, redis: s.redis, skipReadyWait: true });
    try {
      expect((await fetch(`${again.baseUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${again.baseUrl}/readyz`)).status).toBe(503);
      const login = await fetch(`${again.baseUrl}/auth/login`, { redirect: 'manual' });
      expect(login.status).toBe(503);
      expect(await login.text()).toContain('idp_unavailable');
    } finally {
      s.idp.setDown(false);
    }
    await again.parts.idp.whenReady();
    expect((await fetch(`${again.baseUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${again.baseUrl}/auth/login`, { redirect: 'manual' })).status).toBe(302);
    const retries = again.logs.json().filter((l) => l.msg === 'OpenID Provider discovery failed; retrying');
    expect(retries.length).toBeGreaterThanOrEqual(1);
  });

  it('too many login starts from one client: 429 rate_limited with Retry-After', async () => {
    const s = await stack({ loginRateLimit: 3 });
    for (let i = 0; i < 3; i++)
      expect((await fetch(`${s.baseUrl}/auth/login`, { redirect: 'manual' })).status).toBe(302);
    const limited = await fetch(`${s.baseUrl}/auth/login`, { redirect: 'manual' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.headers.get('cache-control')).toBe('no-store');
    expect(await limited.text()).toContain('<code id="error-code">rate_limited</code>');
  });
});
