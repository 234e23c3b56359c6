/**
 * The adversarial corpus's oracles: the contract's rules (written from CONTRACT.md, not from src/) for
 * malformed paths, raw control bytes in a target, and longest-prefix route matching.
 */

const UNRESERVED = /%(?:4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|3[0-9]|2d|2e|5f|7e)/gi;

/** RFC 3986 §6.2.2.2: percent-encoded unreserved characters decoded, everything else as it is. */
export function decodeUnreserved(path: string): string {
  return path.replace(UNRESERVED, (e) => String.fromCharCode(parseInt(e.slice(1), 16)));
}

/** The contract's "malformed path" rules that REQUIRE a 400 before any routing. */
export function pathMustBeRefused(target: string): boolean {
  if (!target.startsWith('/') || /%00|\0/.test(target)) return true;
  const path = target.split('?')[0] ?? '';
  if (/\/\//.test(path) || /;|%3b/i.test(path) || /%2f|%5c|%00|\\|\0/i.test(path)) return true;
  return decodeUnreserved(path)
    .split('/')
    .some((s) => s === '.' || s === '..');
}

/** Bytes Node's parser (or the gateway) must refuse in a request target: controls, space, DEL. */
export function targetHasRawControl(target: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are the point
  return /[\u0000-\u0020\u007f]/.test(target);
}

export interface RouteModel {
  prefix: string;
  targetPath: string;
  token: 'user' | 'optional' | 'none' | 'client';
  csrf: boolean;
  methods?: string[];
}

/** Longest whole-segment prefix match, as the contract says (case-sensitive). */
export function matchRoute(routes: RouteModel[], path: string): RouteModel | undefined {
  return [...routes]
    .sort((a, b) => b.prefix.length - a.prefix.length)
    .find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
}
