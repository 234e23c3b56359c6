import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/types.js';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear. Belt and braces: the code never logs a token on purpose,
 * this catches the accidental case (a whole object handed to the logger).
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
  '*.code',
  '*.code_verifier',
  '*.verifier',
  '*.client_secret',
  '*.clientSecret',
  '*.secret',
  '*.secrets',
  '*.password',
  '*.logout_token',
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'code_verifier',
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
  if (e.cause instanceof Error) out.cause = { type: e.cause.name, message: e.cause.message };
  return out;
}
