import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { GatewayConfig } from '../config/types.js';

type SecurityConfig = Pick<GatewayConfig, 'session' | 'oidc' | 'headers'>;

/**
 * helmet tuned for a gateway: HSTS only under https, and no Referer so a callback URL (with its code)
 * never leaks to another origin. The Content-Security-Policy is CONTENT_SECURITY_POLICY's (see
 * `contentSecurityPolicy`). These headers go on the gateway's own pages and on FRONTEND_DIR files;
 * FRONTEND_URL's dev server gets none (proxy/forwarders.ts): its page is its own.
 */
export function securityHeaders(config: SecurityConfig): RequestHandler {
  const secure = config.session.secure;
  const policy = contentSecurityPolicy(config);
  const base = helmet({
    contentSecurityPolicy: policy.kind === 'default' ? { directives: policy.directives } : false,
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  if (policy.kind !== 'given') return base;
  const value = policy.value;
  return (req, res, next) =>
    base(req, res, (err?: unknown) => {
      if (err === undefined) res.setHeader('Content-Security-Policy', value);
      next(err);
    });
}

export type CspChoice =
  | { kind: 'default'; directives: Record<string, string[] | null> }
  | { kind: 'given'; value: string }
  | { kind: 'off' };

/**
 * unset: helmet's default policy, except that forms may post to the IdP (the logout form post is
 * answered with a 303 to its end_session_endpoint, which `form-action 'self'` would block) and no
 * `upgrade-insecure-requests` on a plain-http deployment. A given policy is sent exactly as written
 * (the operator owns all of it: merging would make a directive impossible to remove); `off` sends none.
 */
export function contentSecurityPolicy(config: SecurityConfig): CspChoice {
  const given = config.headers.contentSecurityPolicy;
  if (given === 'off') return { kind: 'off' };
  if (given !== undefined) return { kind: 'given', value: given };
  return {
    kind: 'default',
    directives: {
      'form-action': ["'self'", new URL(config.oidc.issuer).origin],
      'upgrade-insecure-requests': config.session.secure ? [] : null,
    },
  };
}

/**
 * The same headers as a flat list, computed once: the /api front door adds them to answers that do not
 * set their own (helmet's middleware would cost a dozen setHeader calls per request on the hot path).
 */
export function securityHeaderList(config: SecurityConfig): string[] {
  const headers = new Map<string, string>();
  const stub = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
    getHeader: (name: string) => headers.get(name),
  };
  let done = false;
  // helmet only calls setHeader/removeHeader on the response; it never reads the request.
  (securityHeaders(config) as unknown as (req: object, res: object, next: (err?: unknown) => void) => void)(
    {},
    stub,
    (err?: unknown) => {
      if (err !== undefined) throw err;
      done = true;
    },
  );
  if (!done) throw new Error('helmet did not complete synchronously');
  return [...headers].flat();
}
