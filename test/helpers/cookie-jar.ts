/**
 * A small cookie jar for `fetch(…, { redirect: 'manual' })` in tests.
 *
 * - One map per `host:port` (so the gateway's and the IdP's cookies never mix, even though both are
 *   on 127.0.0.1; a real browser does not separate by port, but nothing here relies on that).
 * - Cookies are keyed by (name, path); Path matching and the default path follow RFC 6265 §5.1.4.
 * - `Max-Age` wins over `Expires`; `Max-Age<=0` or a past `Expires` deletes the cookie.
 * - `Domain` is recorded but ignored (every cookie is host-only); `Secure` is not enforced on http
 *   (browsers treat 127.0.0.1/localhost as secure contexts), `SameSite` is not enforced.
 */

export interface SetCookie {
  name: string;
  value: string;
  /** The Set-Cookie header line as received. */
  raw: string;
  path: string | undefined;
  domain: string | undefined;
  maxAge: number | undefined;
  expires: Date | undefined;
  httpOnly: boolean;
  secure: boolean;
  /** As written ('Strict', 'Lax', 'None'), undefined when absent. */
  sameSite: string | undefined;
  partitioned: boolean;
  /** Every attribute, lower-cased name → value (`true` for flags like HttpOnly). */
  attributes: Record<string, string | true>;
}

export interface StoredCookie {
  name: string;
  value: string;
  path: string;
  /** epoch ms; undefined = session cookie. */
  expiresAt: number | undefined;
  httpOnly: boolean;
  secure: boolean;
  sameSite: string | undefined;
  createdAt: number;
}

export type SetCookieSource = Response | Headers | readonly string[] | string;

/** Parses one Set-Cookie header line. */
export function parseSetCookie(raw: string): SetCookie {
  const parts = raw.split(';');
  const first = parts.shift() ?? '';
  const eq = first.indexOf('=');
  const name = (eq === -1 ? '' : first.slice(0, eq)).trim();
  const value = (eq === -1 ? first : first.slice(eq + 1)).trim();
  const attributes: Record<string, string | true> = {};
  for (const part of parts) {
    const i = part.indexOf('=');
    const key = (i === -1 ? part : part.slice(0, i)).trim().toLowerCase();
    if (!key) continue;
    attributes[key] = i === -1 ? true : part.slice(i + 1).trim();
  }
  const str = (k: string): string | undefined => {
    const v = attributes[k];
    return typeof v === 'string' ? v : undefined;
  };
  const maxAgeRaw = str('max-age');
  const maxAge = maxAgeRaw !== undefined && /^-?\d+$/.test(maxAgeRaw) ? Number(maxAgeRaw) : undefined;
  const expiresRaw = str('expires');
  const expiresDate = expiresRaw !== undefined ? new Date(expiresRaw) : undefined;
  return {
    name,
    value,
    raw,
    path: str('path'),
    domain: str('domain'),
    maxAge,
    expires: expiresDate && !Number.isNaN(expiresDate.getTime()) ? expiresDate : undefined,
    httpOnly: 'httponly' in attributes,
    secure: 'secure' in attributes,
    sameSite: str('samesite'),
    partitioned: 'partitioned' in attributes,
    attributes,
  };
}

/** Every Set-Cookie line of a Response / Headers (via getSetCookie()), or the lines given. */
export function setCookieLines(source: SetCookieSource): string[] {
  if (typeof source === 'string') return [source];
  if (source instanceof Response) return source.headers.getSetCookie();
  if (source instanceof Headers) return source.getSetCookie();
  return [...source];
}

/** All Set-Cookie lines, parsed. */
export function getSetCookies(source: SetCookieSource): SetCookie[] {
  return setCookieLines(source).map(parseSetCookie);
}

/** The raw Set-Cookie line for cookie `name` (the last one when several), or undefined. */
export function getRaw(source: SetCookieSource, name: string): string | undefined {
  return getSetCookie(source, name)?.raw;
}

/** The parsed Set-Cookie for cookie `name` (the last one when several), or undefined. */
export function getSetCookie(source: SetCookieSource, name: string): SetCookie | undefined {
  return getSetCookies(source)
    .filter((c) => c.name === name)
    .at(-1);
}

/** `host:port` with the scheme's default port filled in. */
export function hostKey(url: string | URL): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80');
  return `${u.hostname}:${port}`;
}

/** RFC 6265 §5.1.4 default-path. */
function defaultPath(url: URL): string {
  const p = url.pathname;
  if (!p.startsWith('/')) return '/';
  const last = p.lastIndexOf('/');
  return last <= 0 ? '/' : p.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match. */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

export class CookieJar {
  private readonly hosts = new Map<string, Map<string, StoredCookie>>();
  private seq = 0;

  private hostMap(url: string | URL, create: boolean): Map<string, StoredCookie> | undefined {
    const key = hostKey(url);
    let map = this.hosts.get(key);
    if (!map && create) {
      map = new Map();
      this.hosts.set(key, map);
    }
    return map;
  }

  /** Stores every Set-Cookie of a response received from `url`. */
  store(url: string | URL, source: SetCookieSource): void {
    for (const line of setCookieLines(source)) this.setCookie(url, line);
  }

  /** Applies one Set-Cookie line as if received from `url` (stores, replaces or deletes). */
  setCookie(url: string | URL, raw: string): void {
    const u = new URL(url);
    const c = parseSetCookie(raw);
    if (!c.name && !c.value) return;
    const path = c.path?.startsWith('/') ? c.path : defaultPath(u);
    const now = Date.now();
    let expiresAt: number | undefined;
    if (c.maxAge !== undefined) expiresAt = c.maxAge <= 0 ? 0 : now + c.maxAge * 1000;
    else if (c.expires) expiresAt = c.expires.getTime();
    const map = this.hostMap(u, true);
    if (!map) return;
    const id = `${c.name}\u0000${path}`;
    if (expiresAt !== undefined && expiresAt <= now) {
      map.delete(id);
      return;
    }
    const previous = map.get(id);
    map.set(id, {
      name: c.name,
      value: c.value,
      path,
      expiresAt,
      httpOnly: c.httpOnly,
      secure: c.secure,
      sameSite: c.sameSite,
      createdAt: previous?.createdAt ?? ++this.seq,
    });
  }

  /** The cookies that would be sent to `url`, most specific path first (RFC 6265 §5.4 order). */
  cookiesFor(url: string | URL): StoredCookie[] {
    const u = new URL(url);
    const map = this.hostMap(u, false);
    if (!map) return [];
    const now = Date.now();
    const out: StoredCookie[] = [];
    for (const [id, c] of map) {
      if (c.expiresAt !== undefined && c.expiresAt <= now) {
        map.delete(id);
        continue;
      }
      if (pathMatches(u.pathname, c.path)) out.push(c);
    }
    return out.sort((a, b) => b.path.length - a.path.length || a.createdAt - b.createdAt);
  }

  /** The Cookie request header for `url` ('' when none). */
  header(url: string | URL): string {
    return this.cookiesFor(url)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** Value of cookie `name` as it would be sent to `url`. */
  get(url: string | URL, name: string): string | undefined {
    return this.cookiesFor(url).find((c) => c.name === name)?.value;
  }

  /** Sets a cookie by hand (e.g. to tamper with a value). */
  set(url: string | URL, name: string, value: string, path = '/'): void {
    this.setCookie(url, `${name}=${value}; Path=${path}`);
  }

  /** Removes cookie `name` (at `path`, or at every path) for `url`'s host. */
  delete(url: string | URL, name: string, path?: string): void {
    const map = this.hostMap(url, false);
    if (!map) return;
    for (const [id, c] of map) if (c.name === name && (path === undefined || c.path === path)) map.delete(id);
  }

  /** Every stored cookie for `url`'s host (any path), or of every host. */
  list(url?: string | URL): StoredCookie[] {
    if (url !== undefined) return [...(this.hostMap(url, false)?.values() ?? [])];
    return [...this.hosts.values()].flatMap((m) => [...m.values()]);
  }

  /** Forgets the cookies of `url`'s host, or all of them. */
  clear(url?: string | URL): void {
    if (url === undefined) this.hosts.clear();
    else this.hosts.delete(hostKey(url));
  }
}
