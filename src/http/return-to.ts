/**
 * `returnTo` must be a path on this origin. Anything else (absolute URLs, `//host`, `/\host`, control
 * characters that browsers strip, encoded tricks that resolve elsewhere) becomes "/".
 */
export function safeReturnTo(raw: unknown, publicUrl: string): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return '/';
  // Tabs and newlines are removed by URL parsers (`/\t/evil` -> `//evil`); refuse all control characters and spaces.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u0020\u007f-\u009f]/.test(raw)) return '/';
  let resolved: URL;
  try {
    resolved = new URL(raw, `${publicUrl}/`);
  } catch {
    return '/';
  }
  if (resolved.origin !== new URL(publicUrl).origin) return '/';
  const path = `${resolved.pathname}${resolved.search}${resolved.hash}`;
  return path.startsWith('//') ? '/' : path;
}

/**
 * `returnTo` with `login_error=<code>` as its last query parameter (before any fragment), for a
 * silent sign-in the IdP could not complete. An earlier `login_error` is replaced, so repeated
 * attempts do not pile up; the rest of the query is kept byte for byte. `code` is an OAuth error
 * code (`[a-z_]+`), which needs no encoding.
 */
export function withLoginError(returnTo: string, code: string): string {
  const hashAt = returnTo.indexOf('#');
  const beforeHash = hashAt === -1 ? returnTo : returnTo.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : returnTo.slice(hashAt);
  const queryAt = beforeHash.indexOf('?');
  const path = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
  const kept =
    queryAt === -1
      ? []
      : beforeHash
          .slice(queryAt + 1)
          .split('&')
          .filter((part) => part.length > 0 && part.split('=')[0] !== 'login_error');
  return `${path}?${[...kept, `login_error=${code}`].join('&')}${hash}`;
}
