import type { NextFunction, Request, Response } from 'express';
import { BadRequestError } from './errors.js';

/**
 * First step of every pipeline: refuse paths an upstream (or a static file server) could resolve
 * differently from our route table: `.`/`..` segments (literal or percent-encoded), encoded slashes or
 * backslashes, NUL, raw backslashes and broken percent-encoding.
 */
export function isSafePath(rawPath: string): boolean {
  if (/%(?:2f|5c|00)/i.test(rawPath) || rawPath.includes('\\') || rawPath.includes('\0')) return false;
  if (/%(?![0-9a-f]{2})/i.test(rawPath)) return false;
  for (const segment of rawPath.split('/')) {
    const dots = segment.replace(/%2e/gi, '.');
    if (dots === '.' || dots === '..') return false;
  }
  return true;
}

export function guardPath(req: Request, _res: Response, next: NextFunction): void {
  const raw = req.originalUrl;
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);
  if (!isSafePath(path) || query.includes('\0') || /%00/.test(query)) {
    next(new BadRequestError('Malformed path.'));
    return;
  }
  next();
}
