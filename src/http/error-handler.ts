import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { describeError } from '../observability/logger.js';
import type { CookieRules } from '../session/cookies.js';
import type { Metrics } from '../observability/metrics.js';
import {
  GatewayError,
  MethodNotAllowedError,
  RateLimitedError,
  SessionExpiredError,
  SessionStoreUnavailableError,
} from './errors.js';
import { errorPage } from './pages.js';

/** Routes that browsers navigate to (login, callback) set this so their errors render as a page. */
export function preferHtmlErrors(res: Response): void {
  res.locals.htmlErrors = true;
}

/** A 4xx raised by Express or body-parser (malformed body, too large, bad URL encoding). */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** Any error as the contract's status and code; unknown errors are a 500 (a bug, logged as such). */
export function toGatewayError(
  err: unknown,
  logger: Logger,
  metrics: Metrics,
  context: Record<string, unknown>,
): GatewayError {
  if (err instanceof SessionStoreUnavailableError) metrics.storeErrors.inc();
  if (err instanceof GatewayError) {
    logger[err.status >= 500 ? 'warn' : 'info'](
      { ...context, status: err.status, error: err.code },
      'request refused',
    );
    return err;
  }
  const status = clientErrorStatus(err);
  if (status !== undefined) {
    logger.info({ ...context, status, err: describeError(err) }, 'malformed request');
    return new GatewayError(status, 'bad_request', 'The request is malformed.');
  }
  logger.error({ ...context, err: describeError(err) }, 'unhandled error');
  return new GatewayError(500, 'internal_error', 'Something went wrong in the gateway.');
}

/**
 * Writes the contract's answer for `err`. The one place where errors become responses: the Express
 * error handler and the proxy's error hook both end here.
 */
export function writeError(res: Response, err: GatewayError, cookies: CookieRules): void {
  if (err instanceof MethodNotAllowedError) res.setHeader('Allow', err.allowed.join(', '));
  if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSec));
  if (err instanceof SessionExpiredError) cookies.clearSessionCookie(res);
  res.status(err.status);
  res.setHeader('Cache-Control', 'no-store');
  if (res.locals.htmlErrors === true) res.type('html').send(errorPage(err.code, err.message));
  else res.json({ error: err.code, message: err.message });
}

export function errorHandler(logger: Logger, metrics: Metrics, cookies: CookieRules): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const mapped = toGatewayError(err, logger, metrics, { method: req.method, path: req.path });
    if (res.headersSent) {
      // Too late for a clean answer: cut the connection so the client sees a failure, not a truncated 200.
      next(err);
      return;
    }
    writeError(res, mapped, cookies);
  };
}
