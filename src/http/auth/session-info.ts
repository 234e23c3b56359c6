import type { Request, Response } from 'express';
import { UnauthenticatedError } from '../../errors.js';

/** GET /auth/session: who is signed in. Claims only, never a token; reading it does not slide the session. */
export function sessionInfo() {
  return (req: Request, res: Response): void => {
    res.setHeader('Cache-Control', 'no-store');
    const record = req.session?.bff;
    if (!record) throw new UnauthenticatedError();
    res.json({
      authenticated: true,
      user: record.claims,
      expiresAt: Math.floor(record.absoluteExpiresAt / 1000),
    });
  };
}
