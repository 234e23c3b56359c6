/**
 * The browser side of the BFF session gateway, for single-page applications: one dependency-free ES
 * module (copy this file, or import `bff-session-gateway/client`). It follows the gateway contract
 * (docs: README "Using the SPA client"):
 *
 *   getSession()        GET /auth/session, typed; `null` when signed out
 *   login(returnTo?)    navigates to /auth/login?returnTo=… (default: the current path)
 *   logout()            POST /auth/logout with X-CSRF, then navigates to the returned logoutUrl
 *   api(path, init)     fetch with X-CSRF: 1 and credentials 'same-origin'; a 401 signs in again (or
 *                       calls onUnauthenticated); a 503 idp_unavailable / session_store_unavailable
 *                       is retried with bounded backoff; every other non-2xx answer throws BffError
 * Only globals that browsers (and Node 20+) have, through `globalThis` where the DOM library is needed.
 */
/** Every `error` code the gateway itself answers with (the contract's error table). */
export const GATEWAY_ERROR_CODES = [
  'bad_request',
  'not_found',
  'rate_limited',
  'unauthenticated',
  'session_expired',
  'csrf_required',
  'forbidden',
  'step_up_required',
  'method_not_allowed',
  'bad_gateway',
  'session_store_unavailable',
  'idp_unavailable',
  'gateway_timeout',
];
/** 503 codes that mean "the gateway did not forward anything; the session is intact": safe to retry. */
export const RETRYABLE_CODES = ['idp_unavailable', 'session_store_unavailable'];
/**
 * A non-2xx answer (or no answer). `code` is the body's `error`: one of GATEWAY_ERROR_CODES when the
 * gateway answered, or an upstream API's own code; `http_error` when the body had none, and
 * `network_error` (status 0) when the request never got an answer.
 */
export class BffError extends Error {
  constructor(status, code, message, body, loginUrl) {
    super(message);
    this.name = 'BffError';
    this.status = status;
    this.code = code;
    this.body = body;
    this.loginUrl = loginUrl;
  }
  /** Whether the gateway's contract defines this code (as opposed to an upstream API's own). */
  get isGatewayCode() {
    return GATEWAY_ERROR_CODES.includes(this.code);
  }
}
export const DEFAULT_RETRY = { retries: 3, baseDelayMs: 300, maxDelayMs: 5000 };
/** Backoff before retry number `attempt` (1-based): base·2^(attempt-1), the upper half jittered, capped. */
export function backoffDelay(attempt, retry, random = Math.random) {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
/** Retry-After (delta seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its day and zone; Date.parse alone would read "-1" or "1.5" as years.
  const date = /[a-z]/i.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
/**
 * The wait before retry `attempt`, or undefined to stop: the retries are used up, or the server asks
 * for a longer wait than maxDelayMs (its Retry-After is respected, never shortened).
 */
export function retryWait(attempt, retry, retryAfter, random = Math.random, now = Date.now()) {
  if (attempt > retry.retries) return undefined;
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return asked <= retry.maxDelayMs ? asked : undefined;
  return backoffDelay(attempt, retry, random);
}
/** A non-2xx answer as a BffError; reads the body (JSON `{error, message, loginUrl?}` when it is). */
export async function errorFrom(response) {
  const text = await response.text().catch(() => '');
  let body;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields = typeof body === 'object' && body !== null ? body : {};
  const code = typeof fields.error === 'string' && fields.error !== '' ? fields.error : 'http_error';
  const message =
    typeof fields.message === 'string' ? fields.message : `${response.status} ${response.statusText}`.trim();
  const loginUrl = typeof fields.loginUrl === 'string' ? fields.loginUrl : undefined;
  return new BffError(response.status, code, message, body, loginUrl);
}
/** A same-origin path (one leading '/', not '//' or '/\'), as the gateway's returnTo rule wants. */
function isLocalPath(value) {
  return value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\');
}
/** Bodies fetch can send again; a stream is consumed by the first attempt. */
function isResendable(body) {
  const Stream = globalThis.ReadableStream;
  return !(Stream && body instanceof Stream);
}
function defaultSleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
export function createBffClient(options = {}) {
  const base = options.baseUrl ?? '';
  const retry = options.retry === false ? undefined : { ...DEFAULT_RETRY, ...options.retry };
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const browser = globalThis;
  const navigate =
    options.navigate ??
    ((url) => {
      if (!browser.location) throw new Error('bff-client: no location to navigate; pass options.navigate');
      browser.location.assign(url);
    });
  const currentPath =
    options.currentPath ??
    (() =>
      browser.location ? browser.location.pathname + browser.location.search + browser.location.hash : '/');
  /** One gateway call with X-CSRF and the cookie; 503s the contract calls retryable are retried. */
  async function send(path, init = {}) {
    if (!isLocalPath(path)) throw new TypeError(`bff-client: "${path}" is not a path on the gateway`);
    const headers = new Headers(init.headers);
    headers.set('X-CSRF', '1');
    const request = { credentials: 'same-origin', ...init, headers };
    const resendable = isResendable(init.body);
    for (let attempt = 1; ; attempt++) {
      let response;
      try {
        response = await doFetch(base + path, request);
      } catch (err) {
        if (err?.name === 'AbortError') throw err;
        throw Object.assign(new BffError(0, 'network_error', `${path}: no answer from the gateway`), {
          cause: err,
        });
      }
      if (response.status !== 503 || retry === undefined || !resendable) return response;
      const error = await errorFrom(response.clone());
      const wait = RETRYABLE_CODES.includes(error.code)
        ? retryWait(attempt, retry, response.headers.get('retry-after'), random)
        : undefined;
      if (wait === undefined) return response;
      await response.body?.cancel().catch(() => {});
      await sleep(wait, init.signal);
    }
  }
  function loginHref(returnTo, loginUrl) {
    const target = returnTo !== undefined && isLocalPath(returnTo) ? returnTo : currentPath();
    // A step-up loginUrl comes from the gateway; anything that is not one of its paths is ignored.
    const start = loginUrl !== undefined && loginUrl.startsWith('/auth/login') ? loginUrl : '/auth/login';
    const separator = start.includes('?') ? '&' : '?';
    return `${base}${start}${separator}returnTo=${encodeURIComponent(target)}`;
  }
  return {
    loginHref,
    login(returnTo, loginUrl) {
      navigate(loginHref(returnTo, loginUrl));
    },
    async getSession() {
      // The gateway answers with Cache-Control: no-store, so no cache mode is needed here.
      const response = await send('/auth/session', { headers: { accept: 'application/json' } });
      if (response.status === 401) {
        await response.body?.cancel().catch(() => {});
        return null;
      }
      if (!response.ok) throw await errorFrom(response);
      return await response.json();
    },
    async logout() {
      const response = await send('/auth/logout', {
        method: 'POST',
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw await errorFrom(response);
      const body = await response.json().catch(() => ({}));
      // The IdP's end-session URL (ends its session too), or '/' when it has none; never a scheme
      // such as javascript: that would run in this page.
      const given = typeof body.logoutUrl === 'string' ? body.logoutUrl : '/';
      const logoutUrl = /^https?:\/\//i.test(given) || isLocalPath(given) ? given : '/';
      navigate(logoutUrl === '/' ? `${base}/` : logoutUrl);
      return logoutUrl;
    },
    async api(path, init) {
      const response = await send(path, init);
      if (response.ok) return response;
      const error = await errorFrom(response);
      if (response.status === 401) {
        if (options.onUnauthenticated) options.onUnauthenticated(error);
        else navigate(loginHref(undefined, error.loginUrl));
      }
      throw error;
    },
  };
}
/** A client for this page's origin with the defaults: a 401 navigates to the sign-in page. */
const defaultClient = createBffClient();
export const getSession = () => defaultClient.getSession();
export const login = (returnTo, loginUrl) => defaultClient.login(returnTo, loginUrl);
export const logout = () => defaultClient.logout();
export const api = (path, init) => defaultClient.api(path, init);
