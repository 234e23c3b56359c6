/**
 * Logging in through the gateway and the test IdP (oidc-provider devInteractions), no real browser.
 *
 *   const { callbackResponse, callbackBody } = await loginThroughIdp(browser, gatewayUrl, { login: 'bob' });
 *
 * Or step by step (two parallel logins, tampering with the callback URL, …):
 *   const authorizeUrl = await startLogin(browser, gatewayUrl, '/after');
 *   const callbackUrl = await completeAtIdp(browser, authorizeUrl, 'alice');
 *   const { response, body } = await callback(browser, callbackUrl, gatewayUrl);
 */
import { isRedirect, type TestBrowser } from './browser.js';

export interface HtmlForm {
  id: string | undefined;
  method: string;
  action: URL;
  /** name → value of every <input> with a name (text inputs without a value give ''). */
  fields: URLSearchParams;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of tag.matchAll(re)) {
    const name = m[1];
    if (!name) continue;
    out[name.toLowerCase()] = decodeHtml(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** Every <form> of an HTML page, its action resolved against `baseUrl`. */
export function parseForms(html: string, baseUrl: string | URL): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const a = attrs(m[1] ?? '');
    const fields = new URLSearchParams();
    for (const input of (m[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
      const i = attrs(input[1] ?? '');
      if (i.name !== undefined) fields.append(i.name, i.value ?? '');
    }
    forms.push({
      id: a.id,
      method: (a.method ?? 'get').toUpperCase(),
      action: new URL(a.action ?? '', baseUrl),
      fields,
    });
  }
  return forms;
}

/** Every <a href> of an HTML page, resolved against `baseUrl`. */
export function parseLinks(html: string, baseUrl: string | URL): URL[] {
  const links: URL[] = [];
  for (const m of html.matchAll(/<a\b([^>]*)>/gi)) {
    const href = attrs(m[1] ?? '').href;
    if (href !== undefined) links.push(new URL(href, baseUrl));
  }
  return links;
}

function snippet(text: string): string {
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

function joinPath(base: string | URL, path: string): URL {
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${path}`;
  u.search = '';
  u.hash = '';
  return u;
}

/**
 * A `returnTo` value: a string is percent-encoded into the query (the gateway reads it back as given);
 * `{ raw }` is put into the query byte for byte, so an attacker's own encoding (`%2F%2F`, `%09`) is
 * what reaches the gateway.
 */
export type ReturnTo = string | { raw: string };

/**
 * GET `${gateway}/auth/login[?returnTo=…]` and return where the gateway sends the browser (the IdP's
 * authorization URL). Throws unless the answer is a 302 with a Location.
 */
export async function startLogin(
  browser: TestBrowser,
  gatewayBaseUrl: string | URL,
  returnTo?: ReturnTo,
): Promise<URL> {
  const url = joinPath(gatewayBaseUrl, '/auth/login');
  if (typeof returnTo === 'string') url.searchParams.set('returnTo', returnTo);
  else if (returnTo !== undefined) {
    url.search = `?returnTo=${returnTo.raw}`;
    // The URL parser must not have re-encoded anything: otherwise the case is not the one named.
    if (url.search !== `?returnTo=${returnTo.raw}`)
      throw new Error(`the query was normalised to ${url.search}: cannot send ${returnTo.raw} raw`);
  }
  const res = await browser.fetch(url);
  const body = await res.text();
  const location = res.headers.get('location');
  if (res.status !== 302 || location === null) {
    throw new Error(
      `GET ${url.href} answered ${res.status} (location ${location}), expected 302 to the IdP: ${snippet(body)}`,
    );
  }
  return new URL(location, url);
}

export interface CompleteAtIdpOptions {
  /** false: press "Cancel" on the consent page, so the IdP answers `error=access_denied`. Default true. */
  consent?: boolean;
  /** devInteractions accepts any password. */
  password?: string;
  /** Safety limit on requests at the IdP. Default 20. */
  maxSteps?: number;
}

/**
 * Drives the IdP from `authorizeUrl` until it redirects the browser to another origin (the
 * gateway's `/auth/callback?code=…&state=…&iss=…`, or `?error=…`), and returns that URL without
 * requesting it. Handles the devInteractions login form (`prompt=login`), the consent form
 * (`prompt=consent`), and SSO (no form at all when the IdP session and grant already exist).
 */
export async function completeAtIdp(
  browser: TestBrowser,
  authorizeUrl: string | URL,
  login = 'alice',
  options: CompleteAtIdpOptions = {},
): Promise<URL> {
  const { consent = true, password = 'x', maxSteps = 20 } = options;
  const idpOrigin = new URL(authorizeUrl).origin;
  let url = new URL(authorizeUrl);
  let init: RequestInit | undefined;
  for (let step = 0; step < maxSteps; step++) {
    const res = await browser.fetch(url, init);
    const body = await res.text();
    const location = res.headers.get('location');
    if (isRedirect(res.status) && location !== null) {
      const next = new URL(location, url);
      if (next.origin !== idpOrigin) return next;
      url = next;
      init = undefined;
      continue;
    }
    if (res.status !== 200) {
      throw new Error(`IdP answered ${res.status} at ${url.href}: ${snippet(body)}`);
    }
    const form = parseForms(body, url).find((f) => f.fields.has('prompt'));
    const prompt = form?.fields.get('prompt');
    if (!form || (prompt !== 'login' && prompt !== 'consent')) {
      throw new Error(`no login/consent form at ${url.href}: ${snippet(body)}`);
    }
    const fields = new URLSearchParams(form.fields);
    if (prompt === 'login') {
      fields.set('login', login);
      fields.set('password', password);
    } else if (!consent) {
      const abort = parseLinks(body, url).find((l) => l.pathname.endsWith('/abort'));
      if (!abort) throw new Error(`no abort link on the consent page at ${url.href}`);
      url = abort;
      init = undefined;
      continue;
    }
    url = form.action;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    };
  }
  throw new Error(`login at the IdP did not finish within ${maxSteps} requests (last ${url.href})`);
}

/**
 * GET the callback URL with the browser. With `gatewayBaseUrl`, the request goes to that origin
 * (path and query kept): useful when the gateway's public URL is not where the test reaches it.
 */
export async function callback(
  browser: TestBrowser,
  callbackUrl: string | URL,
  gatewayBaseUrl?: string | URL,
): Promise<{ response: Response; body: string }> {
  const cb = new URL(callbackUrl);
  const target = gatewayBaseUrl === undefined ? cb : new URL(`${cb.pathname}${cb.search}`, gatewayBaseUrl);
  const response = await browser.fetch(target);
  const body = await response.text();
  return { response, body };
}

export interface LoginOptions {
  login?: string;
  returnTo?: ReturnTo;
  consent?: boolean;
  password?: string;
}

export interface LoginResult {
  callbackResponse: Response;
  /** Already read: use this, not callbackResponse.text(). */
  callbackBody: string;
  authorizeUrl: URL;
  callbackUrl: URL;
}

/** The whole login: gateway /auth/login → IdP login (+ consent) → gateway /auth/callback. */
export async function loginThroughIdp(
  browser: TestBrowser,
  gatewayBaseUrl: string | URL,
  options: LoginOptions = {},
): Promise<LoginResult> {
  const { login = 'alice', returnTo, consent = true, password } = options;
  const authorizeUrl = await startLogin(browser, gatewayBaseUrl, returnTo);
  const callbackUrl = await completeAtIdp(browser, authorizeUrl, login, {
    consent,
    ...(password !== undefined ? { password } : {}),
  });
  const { response, body } = await callback(browser, callbackUrl, gatewayBaseUrl);
  return { callbackResponse: response, callbackBody: body, authorizeUrl, callbackUrl };
}

/**
 * RP-initiated logout at the IdP: GET `logoutUrl` (the end_session URL with id_token_hint, …),
 * confirm the `op.logoutForm` with `logout=yes` (ends the IdP session and fires back-channel
 * logout), and return where the IdP then redirects the browser, without requesting it
 * (post_logout_redirect_uri, or the IdP's own /session/end/success page).
 */
export async function confirmIdpLogout(browser: TestBrowser, logoutUrl: string | URL): Promise<URL> {
  const start = new URL(logoutUrl);
  const res = await browser.fetch(start);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`end_session answered ${res.status}: ${snippet(body)}`);
  const form = parseForms(body, start).find((f) => f.id === 'op.logoutForm');
  if (!form) throw new Error(`no op.logoutForm at ${start.href}: ${snippet(body)}`);
  const fields = new URLSearchParams(form.fields);
  fields.set('logout', 'yes');
  const confirm = await browser.fetch(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
  });
  const confirmBody = await confirm.text();
  const location = confirm.headers.get('location');
  if (!isRedirect(confirm.status) || location === null) {
    throw new Error(`end_session confirm answered ${confirm.status}: ${snippet(confirmBody)}`);
  }
  return new URL(location, form.action);
}
