import type { Request } from 'express';
import type { Logger } from '../../observability/logger.js';
import type { IdentityProvider } from '../../oidc/provider.js';
import { LoginError } from '../../errors.js';

/**
 * RFC 9207 mix-up defense: when the IdP says it sends `iss` with its authorization responses, a
 * callback naming another issuer, or (with a code) none at all, did not come from this IdP and is
 * refused before its code goes anywhere. An error response without `iss` still shows its error code:
 * nothing is exchanged for it, and the page is all it can cause.
 */
export function checkResponseIssuer(req: Request, idp: IdentityProvider, logger: Logger): void {
  if (!idp.ready || idp.metadata.authorization_response_iss_parameter_supported !== true) return;
  const iss = req.query.iss;
  const isError = req.query.error !== undefined;
  if (iss === idp.metadata.issuer || (iss === undefined && isError)) return;
  logger.warn(
    { hasIss: iss !== undefined, errorResponse: isError },
    'callback refused: its iss is not the IdP issuer (RFC 9207)',
  );
  throw new LoginError(
    'invalid_issuer',
    'This sign-in response did not come from the expected identity provider.',
  );
}
