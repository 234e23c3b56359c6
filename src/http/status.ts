import type { Request, Response } from 'express';
import type { SessionRecords } from '../session/records/session-records.js';
import { readSessionId } from '../session/cookie/session-id.js';
import { statusPage } from './pages.js';

export interface StatusDeps {
  records: SessionRecords;
  cookieName: string;
  secrets: readonly string[];
}

/**
 * GET / without a frontend: a small HTML page saying who is signed in (or offering to sign in). It reads
 * the session like /auth/session does, without sliding it; a store outage is the usual 503.
 */
export function statusRoute(deps: StatusDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const sid = readSessionId(req, deps.cookieName, deps.secrets);
    const record = sid === undefined ? undefined : (await deps.records.read(sid))?.record;
    const claims = record?.claims;
    const name = claims && typeof claims.name === 'string' ? claims.name : undefined;
    const email = claims && typeof claims.email === 'string' ? claims.email : undefined;
    res.setHeader('Cache-Control', 'no-store');
    res
      .type('html')
      .send(statusPage(record ? { name: name ?? email ?? record.sub, sub: record.sub } : undefined));
  };
}
