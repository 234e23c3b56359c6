/**
 * A minimal "browser" for tests: `fetch` with manual redirects and a cookie jar.
 */
import { CookieJar } from './cookie-jar.js';

export interface Hop {
  url: URL;
  response: Response;
  /** The body of a redirect hop (read so the connection is released); undefined for the last hop. */
  body: string | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number): boolean {
  return REDIRECTS.has(status);
}

export class TestBrowser {
  readonly jar: CookieJar;

  constructor(jar: CookieJar = new CookieJar()) {
    this.jar = jar;
  }

  /**
   * One request, `redirect: 'manual'`. Sends the jar's cookies for the URL (unless `init.headers`
   * already has a Cookie header) and stores every Set-Cookie of the answer.
   */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('cookie')) {
      const cookie = this.jar.header(url);
      if (cookie) headers.set('cookie', cookie);
    }
    const response = await globalThis.fetch(url, { ...init, headers, redirect: 'manual' });
    this.jar.store(url, response);
    return response;
  }

  /**
   * Follows 30x answers by hand (cookies stored and sent at every hop), returning every hop.
   * 303, and 301/302 after a POST, continue as GET without a body; 307/308 repeat the method and
   * body (which must then be re-sendable: a string, URLSearchParams, …). Throws after `max` redirects.
   */
  async follow(url: string | URL, init: RequestInit = {}, max = 20): Promise<Hop[]> {
    const hops: Hop[] = [];
    let current = new URL(url);
    let currentInit: RequestInit = init;
    for (let i = 0; i <= max; i++) {
      const response = await this.fetch(current, currentInit);
      const location = response.headers.get('location');
      if (!isRedirect(response.status) || location === null) {
        hops.push({ url: current, response, body: undefined });
        return hops;
      }
      hops.push({ url: current, response, body: await response.text() });
      const method = (currentInit.method ?? 'GET').toUpperCase();
      if (response.status === 303 ? method !== 'HEAD' : response.status <= 302 && method === 'POST') {
        const headers = new Headers(currentInit.headers);
        headers.delete('content-type');
        headers.delete('content-length');
        const { body: _dropped, ...rest } = currentInit;
        void _dropped;
        currentInit = { ...rest, method: 'GET', headers };
      }
      current = new URL(location, current);
    }
    throw new Error(`more than ${max} redirects, last at ${current.href}`);
  }
}
