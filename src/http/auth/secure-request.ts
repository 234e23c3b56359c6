import type { Request } from 'express';
import type { Logger } from '../../observability/logger.js';
import { LoginError } from '../../errors.js';

/**
 * With an https `BFF_PUBLIC_URL`, the login and session cookies are `Secure`, and express-session does
 * not set a Secure cookie on a request it sees as plain http: a callback would store a session with live
 * tokens that no browser could ever use. Such a request arrives over http as the gateway sees it only
 * when a TLS proxy in front is not trusted (TRUST_PROXY unset), so refuse it, before touching the store
 * or the IdP, and say how to fix it.
 */
export function requireSecureRequest(req: Request, publicUrl: string, logger: Logger): void {
  if (!publicUrl.startsWith('https:') || req.secure) return;
  logger.warn(
    { path: req.path, protocol: req.protocol },
    'BFF_PUBLIC_URL is https but this request did not arrive over https as the gateway sees it: ' +
      'behind a TLS proxy, set TRUST_PROXY (to the proxy address) so X-Forwarded-Proto is believed',
  );
  throw new LoginError(
    'insecure_request',
    'The gateway received this request over plain http, so it cannot set its secure cookies.',
  );
}
