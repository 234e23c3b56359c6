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
