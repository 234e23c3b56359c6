import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/types.js';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear. Belt and braces: the code never logs a token on purpose,
 * this catches the accidental case (a whole object handed to the logger).
 *
 * `code` is not among them: it is the key of every error code (`err.code`: `EADDRINUSE`,
 * `OAUTH_JWT_TIMESTAMP_CHECK_FAILED`, ...), the first thing an operator looks for. Authorization codes
 * are kept out by construction instead: request lines carry the path without its query, and the
 * callback's query is only ever held whole (`callbackQuery`) or parsed (`query`, `params`), which these
 * paths cover (test/integration/diagnostics.test.ts proves a real callback's code stays out).
 */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  '*.code_verifier',
  '*.codeVerifier',
  '*.verifier',
  '*.callbackQuery',
  '*.query.code',
  '*.params.code',
  '*.client_secret',
  '*.clientSecret',
  '*.secret',
  '*.secrets',
  '*.password',
  '*.logout_token',
  'access_token',
  'refresh_token',
  'id_token',
  'code_verifier',
  'codeVerifier',
  'callbackQuery',
  'query.code',
  'params.code',
  'client_secret',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'bff-gateway' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // `err` fields are already describeError() output; pino's own err serializer would flatten them
      // (and drop `code`, `error`, `error_description`). A raw Error still gets the safe description.
      serializers: { err: (value: unknown) => (value instanceof Error ? describeError(value) : value) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * What may be logged of an error: its class, code and message, plus OAuth's `error` field.
 * Never the raw object: openid-client errors can carry response bodies or request details.
 * For an IdP's refusal, `error`, `error_description` and `status` are the IdP's answer (a challenge's
 * are set on the error by IdentityProvider.call, see idp-errors.ts); a non-conforming answer
 * (`unexpected HTTP response status code`) keeps the response as its cause: its status is named too.
 */
export function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & {
    code?: unknown;
    error?: unknown;
    error_description?: unknown;
    status?: unknown;
    cause?: unknown;
  };
  const out: Record<string, unknown> = { type: e.name, message: e.message };
  if (typeof e.code === 'string') out.code = e.code;
  if (typeof e.error === 'string') out.error = e.error;
  // The IdP's own words ("PKCE verification failed", "grant request is invalid"): the key to most login problems.
  if (typeof e.error_description === 'string') out.error_description = e.error_description.slice(0, 300);
  if (typeof e.status === 'number') out.status = e.status;
  else if (isResponse(e.cause)) out.status = e.cause.status;
  if (e.cause instanceof Error) {
    const cause = e.cause as Error & { code?: unknown };
    // fetch's TypeError('fetch failed') says why only in its cause: ECONNREFUSED, ENOTFOUND, ...
    out.cause = {
      type: cause.name,
      message: cause.message,
      ...(typeof cause.code === 'string' ? { code: cause.code } : {}),
    };
  }
  return out;
}

function isResponse(value: unknown): value is Response {
  return typeof Response !== 'undefined' && value instanceof Response;
}
