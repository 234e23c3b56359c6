import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { parseContentSecurityPolicy } from '../../src/config/content-security-policy.js';
import { contentSecurityPolicy, securityHeaderList } from '../../src/http/security-headers.js';

const BASE = {
  OIDC_ISSUER: 'https://login.example.com/tenant',
  OIDC_CLIENT_ID: 'bff',
  OIDC_CLIENT_SECRET: 'client-secret',
};

const load = (extra: Record<string, string> = {}) => loadConfig({ ...BASE, ...extra });

/** The flat [name, value, ...] list as a lower-cased map. */
function headersOf(list: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < list.length; i += 2) map.set(list[i]!.toLowerCase(), list[i + 1]!);
  return map;
}

function directives(policy: string): Map<string, string> {
  return new Map(
    policy.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values.join(' ')] as const;
    }),
  );
}

describe('parseContentSecurityPolicy', () => {
  it('keeps a whole policy as written (trimmed); off in any case is off', () => {
    const policy = "default-src 'self'; img-src 'self' https://avatars.example.com; connect-src 'self'";
    expect(parseContentSecurityPolicy(`  ${policy} `)).toBe(policy);
    expect(parseContentSecurityPolicy('OFF')).toBe('off');
    expect(parseContentSecurityPolicy(' off ')).toBe('off');
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ["default-src 'self'\r\nSet-Cookie: x=1", /printable ASCII/],
    ["default-src 'self'; img-src caf\u00e9.example", /printable ASCII/],
    ["default-src 'self'; 'self' img-src", /directive name/],
    ['img_src *', /directive name/],
  ])('refuses %j', (value, message) => {
    expect(() => parseContentSecurityPolicy(value)).toThrow(message);
  });

  it('refuses a number (a YAML value that is not a string)', () => {
    expect(() => parseContentSecurityPolicy(42)).toThrow(/policy string or off/);
  });

  it('reaches the config from CONTENT_SECURITY_POLICY; a bad value stops start-up naming it', () => {
    expect(load().headers.contentSecurityPolicy).toBeUndefined();
    expect(load({ CONTENT_SECURITY_POLICY: 'off' }).headers.contentSecurityPolicy).toBe('off');
    expect(load({ CONTENT_SECURITY_POLICY: "default-src 'none'" }).headers.contentSecurityPolicy).toBe(
      "default-src 'none'",
    );
    let error: unknown;
    try {
      load({ CONTENT_SECURITY_POLICY: 'img_src *' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('CONTENT_SECURITY_POLICY');
  });
});

describe('the Content-Security-Policy header the gateway sends', () => {
  it("unset: helmet's strict default, forms may post to the IdP, no upgrade on plain http", () => {
    const config = load();
    expect(contentSecurityPolicy(config).kind).toBe('default');
    const csp = directives(headersOf(securityHeaderList(config)).get('content-security-policy')!);
    expect(csp.get('default-src')).toBe("'self'");
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('object-src')).toBe("'none'");
    expect(csp.get('frame-ancestors')).toBe("'self'");
    expect(csp.get('form-action')).toBe("'self' https://login.example.com");
    expect(csp.has('upgrade-insecure-requests')).toBe(false);
  });

  it('unset, under https: upgrade-insecure-requests too', () => {
    const config = load({ BFF_PUBLIC_URL: 'https://app.example.com' });
    const csp = directives(headersOf(securityHeaderList(config)).get('content-security-policy')!);
    expect(csp.get('upgrade-insecure-requests')).toBe('');
    expect(csp.get('form-action')).toBe("'self' https://login.example.com");
  });

  it('given: exactly that string, once, next to the other security headers', () => {
    const policy =
      "default-src 'self'; img-src 'self' https://avatars.example.com; connect-src 'self' https://errors.example.com";
    const list = securityHeaderList(load({ CONTENT_SECURITY_POLICY: policy }));
    const headers = headersOf(list);
    expect(headers.get('content-security-policy')).toBe(policy);
    expect(list.filter((name) => name.toLowerCase() === 'content-security-policy')).toHaveLength(1);
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('off: no CSP header at all, the other security headers stay', () => {
    const headers = headersOf(securityHeaderList(load({ CONTENT_SECURITY_POLICY: 'off' })));
    expect(headers.has('content-security-policy')).toBe(false);
    expect(headers.has('content-security-policy-report-only')).toBe(false);
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});
