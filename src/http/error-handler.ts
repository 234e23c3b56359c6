import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { describeError } from '../observability/logger.js';
import { GatewayError, MethodNotAllowedError, RateLimitedError } from './errors.js';
import { errorPage } from './pages.js';

/** Routes that browsers navigate to (login, callback) set this so their errors render as a page. */
export function preferHtmlErrors(res: Response): void {
  res.locals.htmlErrors = true;
}

/** A 4xx raised by Express or body-parser (malformed body, too large, bad URL encoding). */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** The one place that maps errors to the contract's JSON (or HTML for navigations). */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    let status: number;
    let code: string;
    let message: string;
    if (err instanceof GatewayError) {
      ({ status, code, message } = err);
      if (err instanceof MethodNotAllowedError) res.setHeader('Allow', err.allowed.join(', '));
      if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSec));
      const level = status >= 500 ? 'warn' : 'info';
      logger[level]({ status, error: code, method: req.method, path: req.path }, 'request refused');
    } else if (clientErrorStatus(err) !== undefined) {
      status = clientErrorStatus(err) as number;
      code = 'bad_request';
      message = 'The request is malformed.';
      logger.info({ status, error: code, path: req.path, err: describeError(err) }, 'malformed request');
    } else {
      status = 500;
      code = 'internal_error';
      message = 'Something went wrong in the gateway.';
      logger.error({ err: describeError(err), method: req.method, path: req.path }, 'unhandled error');
    }

    if (res.headersSent) {
      // Too late for a clean answer: cut the connection so the client sees a failure, not a truncated 200.
      next(err);
      return;
    }
    res.status(status);
    res.setHeader('Cache-Control', 'no-store');
    if (res.locals.htmlErrors === true) {
      res.type('html').send(errorPage(code, message));
    } else {
      res.json({ error: code, message });
    }
  };
}
