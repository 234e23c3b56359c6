import type { RequestHandler } from 'express';
import helmet from 'helmet';
import type { GatewayConfig } from '../config/types.js';

/**
 * helmet tuned for a gateway: the default CSP, except that forms may post to the IdP (the logout form
 * post is answered with a 303 to its end_session_endpoint, which `form-action 'self'` would block),
 * no `upgrade-insecure-requests` on a plain-http deployment, HSTS only under https, and no Referer so a
 * callback URL (with its code) never leaks to another origin.
 */
export function securityHeaders(config: GatewayConfig): RequestHandler {
  const secure = config.session.secure;
  return helmet({
    contentSecurityPolicy: {
      directives: {
        'form-action': ["'self'", new URL(config.oidc.issuer).origin],
        'upgrade-insecure-requests': secure ? [] : null,
      },
    },
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * The same headers as a flat list, computed once: the /api front door adds them to answers that do not
 * set their own (helmet's middleware would cost a dozen setHeader calls per request on the hot path).
 */
export function securityHeaderList(config: GatewayConfig): string[] {
  const headers = new Map<string, string>();
  const stub = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
    getHeader: (name: string) => headers.get(name),
  };
  let done = false;
  // helmet only calls setHeader/removeHeader on the response; it never reads the request.
  (securityHeaders(config) as unknown as (req: object, res: object, next: () => void) => void)(
    {},
    stub,
    () => (done = true),
  );
  if (!done) throw new Error('helmet did not complete synchronously');
  return [...headers].flat();
}
