/**
 * The path rules every request meets before any routing (contract, "Proxying"): the gateway, a static
 * file server and an upstream must all see the same path, so anything two of them could read differently
 * is refused instead of being interpreted:
 *
 * - `.` / `..` segments, literal or percent-encoded (`%2e%2e`);
 * - empty segments (`//`), which some routers collapse (`/api//admin` would become `/api/admin` upstream
 *   after the gateway matched the looser `/api` route);
 * - `;` anywhere in the path, literal or `%3b` (`..;` and matrix parameters hide segments from us but not
 *   from Tomcat/Spring);
 * - encoded slash or backslash (`%2f`, `%5c`), a raw backslash, NUL (`%00` or raw), broken `%` escapes;
 * - anything but origin-form (`/...`): absolute-form targets and `*`.
 *
 * Percent-encoded unreserved characters are decoded (RFC 3986 §6.2.2.2): `/api/%61dmin` is `/api/admin`
 * for routing and forwarding alike. Other escapes stay as they are.
 */

const REFUSED = /%(?:2f|5c|00|3b)|[\\;\0]|\/\/|%(?![0-9a-f]{2})/i;
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:\/|$)/i;
const UNRESERVED_ESCAPE = /%(?:4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|3[0-9]|2d|2e|5f|7e)/gi;

export interface RequestTarget {
  /** The normalised path (unreserved escapes decoded). */
  path: string;
  /** `?...` or ''. */
  query: string;
}

/** The normalised target, or undefined when the request target must be refused (400). */
export function parseRequestTarget(rawUrl: string): RequestTarget | undefined {
  if (rawUrl.charCodeAt(0) !== 0x2f /* '/' */) return undefined;
  const q = rawUrl.indexOf('?');
  let path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);
  if (REFUSED.test(path)) return undefined;
  if (query !== '' && (query.includes('\0') || /%00/.test(query))) return undefined;
  if (path.includes('%')) path = path.replace(UNRESERVED_ESCAPE, decodeEscape);
  if (DOT_SEGMENT.test(path)) return undefined;
  return { path, query };
}

function decodeEscape(escape: string): string {
  return String.fromCharCode(parseInt(escape.slice(1), 16));
}
