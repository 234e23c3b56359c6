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
