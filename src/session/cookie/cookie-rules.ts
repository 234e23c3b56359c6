import type { CookieOptions, Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { GatewayConfig } from '../../config/types.js';
import { LOGIN_LIFETIME_MS } from '../pending-logins.js';

/**
 * The cookie rules, all in one place.
 *
 * Session cookie: HttpOnly, Path=/, SameSite=Strict (or Lax), Secure under https, no Domain, and no
 * Expires: it is a browser-session cookie, the server ends the session at its idle or absolute limit.
 * Login cookie: HttpOnly, Path=/, SameSite=Lax (it must travel on the IdP's cross-site redirect back),
 * Max-Age=600, an opaque random id binding the browser to its pending logins.
 */
export class CookieRules {
  constructor(private readonly session: GatewayConfig['session']) {}

  get sessionCookieName(): string {
    return this.session.cookieName;
  }

  /** Passed to express-session. */
  get sessionCookieOptions(): CookieOptions & { sameSite: 'strict' | 'lax' } {
    return { httpOnly: true, secure: this.session.secure, sameSite: this.session.sameSite, path: '/' };
  }

  clearSessionCookie(res: Response): void {
    res.clearCookie(this.session.cookieName, this.sessionCookieOptions);
  }

  /** The `Set-Cookie` value that clears the session cookie, for responses outside Express. */
  get clearedSessionCookie(): string {
    const { cookieName, secure, sameSite } = this.session;
    const attributes = `Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly${secure ? '; Secure' : ''}`;
    return `${cookieName}=; ${attributes}; SameSite=${sameSite === 'strict' ? 'Strict' : 'Lax'}`;
  }

  private get loginCookieOptions(): CookieOptions {
    return {
      httpOnly: true,
      secure: this.session.secure,
      sameSite: 'lax',
      path: '/',
      maxAge: LOGIN_LIFETIME_MS,
    };
  }

  readLoginId(req: Request): string | undefined {
    const value = readCookie(req, this.session.loginCookieName);
    return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
  }

  /** Reuses the browser's login id (so parallel logins share it) and restarts its 10 minutes. */
  issueLoginId(req: Request, res: Response): string {
    const loginId = this.readLoginId(req) ?? randomBytes(32).toString('base64url');
    res.cookie(this.session.loginCookieName, loginId, this.loginCookieOptions);
    return loginId;
  }
}

/** Reads one cookie from the header without decoding surprises; undefined when absent. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
