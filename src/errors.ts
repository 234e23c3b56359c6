/**
 * Typed errors, beneath every layer so that session/, oidc/ and proxy/ throw them without importing
 * http/. Code throws these; `errorHandler` (http/error-handler.ts) alone turns them into the
 * contract's status codes and bodies.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Members the JSON body carries after `error` and `message` (step_up_required's `loginUrl`). */
  get bodyMembers(): Readonly<Record<string, string>> | undefined {
    return undefined;
  }
}

export class BadRequestError extends GatewayError {
  constructor(message = 'The request is malformed.') {
    super(400, 'bad_request', message);
  }
}
export class UnauthenticatedError extends GatewayError {
  constructor(message = 'Sign in first: no session.') {
    super(401, 'unauthenticated', message);
  }
}
export class SessionExpiredError extends GatewayError {
  constructor(message = 'The session has ended; sign in again.') {
    super(401, 'session_expired', message);
  }
}
export class CsrfRequiredError extends GatewayError {
  constructor(message = 'Send the anti-forgery header X-CSRF: 1 from the same origin.') {
    super(403, 'csrf_required', message);
  }
}
/** The session's claims do not satisfy the route's `require.claims`: signing in again will not help. */
export class ForbiddenError extends GatewayError {
  constructor(message = 'Your sign-in does not allow this request.') {
    super(403, 'forbidden', message);
  }
}
/**
 * The route (`require.acr` / `require.maxAge`) or its upstream (RFC 9470) needs a stronger or fresher
 * sign-in: `loginUrl` (`/auth/login?acr_values=…&max_age=…`) starts it; the SPA adds `returnTo`.
 */
export class StepUpRequiredError extends GatewayError {
  constructor(
    readonly loginUrl: string,
    message = 'This request needs a stronger or more recent sign-in: sign in again at loginUrl.',
  ) {
    super(401, 'step_up_required', message);
  }

  override get bodyMembers(): Readonly<Record<string, string>> {
    return { loginUrl: this.loginUrl };
  }
}
export class NotFoundError extends GatewayError {
  constructor(message = 'Nothing here.') {
    super(404, 'not_found', message);
  }
}
export class MethodNotAllowedError extends GatewayError {
  constructor(
    readonly allowed: string[],
    message = 'Method not allowed on this route.',
  ) {
    super(405, 'method_not_allowed', message);
  }
}
export class RateLimitedError extends GatewayError {
  constructor(
    readonly retryAfterSec: number,
    message = 'Too many sign-in attempts; try again shortly.',
  ) {
    super(429, 'rate_limited', message);
  }
}
export class BadGatewayError extends GatewayError {
  constructor(message = 'The upstream API could not be reached.') {
    super(502, 'bad_gateway', message);
  }
}
export class SessionStoreUnavailableError extends GatewayError {
  constructor(message = 'The session store is unavailable; try again shortly.', options?: ErrorOptions) {
    super(503, 'session_store_unavailable', message, options);
  }
}
export class IdpUnavailableError extends GatewayError {
  constructor(
    message = 'The identity provider could not be reached; try again shortly.',
    options?: ErrorOptions,
  ) {
    super(503, 'idp_unavailable', message, options);
  }
}
export class GatewayTimeoutError extends GatewayError {
  constructor(message = 'The upstream API did not answer in time.') {
    super(504, 'gateway_timeout', message);
  }
}

/**
 * Failures of the login callback, shown as an HTML page and never a session: `invalid_state`,
 * `login_expired`, `exchange_failed`, or the IdP's own error code (`access_denied`, ...).
 */
export class LoginError extends GatewayError {
  constructor(code: string, message: string, status = 400, options?: ErrorOptions) {
    super(status, code, message, options);
  }
}
