import type { Response } from 'express';
import type { LoadedSession } from '../session/session-records.js';
import type { RouteMatch } from './route-table.js';

/** What the /api pipeline's steps hand to each other, kept on `res.locals`. */
export interface ProxyState {
  match: RouteMatch;
  session?: LoadedSession;
}

export function proxyState(res: Response): ProxyState {
  return res.locals.proxy as ProxyState;
}
