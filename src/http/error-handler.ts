import type { ErrorRequestHandler, Response } from 'express';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import { describeError } from '../observability/logger.js';
import type { CookieRules } from '../session/cookie/cookie-rules.js';
import type { Metrics } from '../observability/metrics.js';
import {
  GatewayError,
  MethodNotAllowedError,
  RateLimitedError,
  SessionExpiredError,
  SessionStoreUnavailableError,
} from '../errors.js';
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
 * error handler, the /api front door and the forwarder all end here (WebSocket refusals in
 * `refuseUpgrade`, below). Plain node:http calls, so the front door's bare responses can use it too.
 */
export function writeError(res: ServerResponse, err: GatewayError, cookies: CookieRules, html = false): void {
  if (err instanceof MethodNotAllowedError) res.setHeader('Allow', err.allowed.join(', '));
  if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSec));
  if (err instanceof SessionExpiredError) res.appendHeader('Set-Cookie', cookies.clearedSessionCookie);
  const body = html ? errorPage(err.code, err.message) : jsonBody(err.code, err.message, err.bodyMembers);
  res.statusCode = err.status;
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** The contract's answer on a socket that asked for an upgrade: an HTTP error, never a 101. */
export function refuseUpgrade(socket: Duplex, err: GatewayError): void {
  endSocketWithError(socket, err.status, err.code, err.message, err.bodyMembers);
}

/** The contract's JSON error body: `error`, `message`, then the error's own members (e.g. `loginUrl`). */
function jsonBody(
  code: string,
  message: string,
  members: Readonly<Record<string, string>> | undefined,
): string {
  return JSON.stringify(
    members === undefined ? { error: code, message } : { error: code, message, ...members },
  );
}

/** A whole JSON error response written on a bare socket, which is then closed. */
export function endSocketWithError(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  members?: Readonly<Record<string, string>>,
): void {
  if (socket.destroyed) return;
  const body = jsonBody(code, message, members);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Requests Node's own parser refuses (both Content-Length and Transfer-Encoding, two Content-Lengths, an
 * unknown transfer coding, bare LF, oversized headers) get the contract's JSON error and a closed
 * connection, never a guess at where the next request starts. While an earlier request on the same
 * connection is still being answered, the connection is cut instead (bytes written now would land in
 * the middle of that answer).
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight) {
    socket.destroy();
    return;
  }
  if (err.code === 'HPE_HEADER_OVERFLOW')
    endSocketWithError(socket, 431, 'bad_request', 'Request headers too large.');
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    endSocketWithError(socket, 408, 'bad_request', 'Request timed out.');
  else endSocketWithError(socket, 400, 'bad_request', 'The request is malformed.');
}

export function errorHandler(logger: Logger, metrics: Metrics, cookies: CookieRules): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const mapped = toGatewayError(err, logger, metrics, { method: req.method, path: req.path });
    if (res.headersSent) {
      // Too late for a clean answer: cut the connection so the client sees a failure, not a truncated 200.
      next(err);
      return;
    }
    writeError(res, mapped, cookies, res.locals.htmlErrors === true);
  };
}
