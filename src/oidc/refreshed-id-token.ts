import { decodeJwt } from 'jose';

/** The claims that tie an ID token to a sign-in, as OIDC Core §12.2 requires of a refreshed one. */
interface Binding {
  iss: unknown;
  aud: string[];
  sub: unknown;
}

function audiences(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string').sort() : [];
}

/**
 * The first of `iss`, `aud`, `sub` in which an ID token returned by a refresh differs from the
 * session's own ID token (issued at sign-in, validated then), or undefined when all match. A different
 * `sub` would switch the session to another user; a different `iss` or `aud` means the token was not
 * issued for this sign-in. Signatures are checked elsewhere (id-token.ts); this is about the session.
 */
export function refreshedIdTokenMismatch(
  sessionIdToken: string | undefined,
  session: { sub: string; issuer: string; clientId: string },
  refreshed: Record<string, unknown>,
): 'iss' | 'aud' | 'sub' | undefined {
  const bound = binding(sessionIdToken, session);
  if (refreshed.iss !== bound.iss) return 'iss';
  const aud = audiences(refreshed.aud);
  if (aud.length !== bound.aud.length || aud.some((a, i) => a !== bound.aud[i])) return 'aud';
  if (refreshed.sub !== bound.sub) return 'sub';
  return undefined;
}

function binding(
  idToken: string | undefined,
  session: { sub: string; issuer: string; clientId: string },
): Binding {
  // The stored ID token was validated at sign-in; only its claims are needed here.
  if (idToken !== undefined) {
    try {
      const claims = decodeJwt(idToken);
      return { iss: claims.iss, aud: audiences(claims.aud), sub: session.sub };
    } catch {
      // Unreadable (never expected): fall back to what sign-in required of it.
    }
  }
  return { iss: session.issuer, aud: [session.clientId], sub: session.sub };
}
