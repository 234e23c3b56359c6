import type { NextFunction, Request, Response } from 'express';
import { BadRequestError } from '../errors.js';
import { parseRequestTarget } from './request-path.js';

/**
 * First step of every Express pipeline (the /api front door applies the same rules itself): refuse paths
 * an upstream or a static file server could resolve differently from our route table
 * (http/request-path.ts lists them).
 */
export function guardPath(req: Request, _res: Response, next: NextFunction): void {
  if (parseRequestTarget(req.originalUrl) === undefined) {
    next(new BadRequestError('Malformed path.'));
    return;
  }
  next();
}
