import type { NextFunction, Request, Response } from 'express';
import { CsrfRequiredError } from '../errors.js';

export const CSRF_HEADER = 'x-csrf';

/**
 * For state-changing /auth endpoints (logout): the anti-forgery header, or a same-origin `Origin` /
 * `Sec-Fetch-Site` (a plain HTML form post from our own page). A foreign Origin or a cross-site fetch
 * is refused even with the header.
 */
export function requireSameOrigin(publicUrl: string) {
  const ownOrigin = new URL(publicUrl).origin;
  return (req: Request, _res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (origin !== undefined && origin !== ownOrigin)
      return next(new CsrfRequiredError('Cross-origin request refused.'));
    if (site !== undefined && site !== 'same-origin' && site !== 'none')
      return next(new CsrfRequiredError('Cross-site request refused.'));
    if (req.headers[CSRF_HEADER] === '1' || origin === ownOrigin || site === 'same-origin') return next();
    next(new CsrfRequiredError());
  };
}

export function hasCsrfHeader(req: Request): boolean {
  return req.headers[CSRF_HEADER] === '1';
}
