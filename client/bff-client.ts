/**
 * The browser side of the BFF session gateway, for single-page applications: one dependency-free ES
 * module (copy this file, or import `bff-session-gateway/client`). It follows the gateway contract
 * (docs: README "Using the SPA client"):
 *
 *   getSession()        GET /auth/session, typed; `null` when signed out
 *   login(returnTo?)    navigates to /auth/login?returnTo=… (default: the current path)
 *   trySilentLogin()    signs in without any page at the IdP when it still has a session
 *                       (prompt=none); resolves with the session, or null when that needs the user
 *   logout()            POST /auth/logout with X-CSRF, then navigates to the returned logoutUrl
 *   api(path, init)     fetch with X-CSRF: 1 and credentials 'same-origin'; a 401 signs in again (or
 *                       calls onUnauthenticated); a 503 idp_unavailable / session_store_unavailable
 *                       is retried with bounded backoff; every other non-2xx answer throws BffError
 * A 401 step_up_required navigates to the gateway's loginUrl once; the same step-up again within a
 * minute (an IdP that ignores acr_values) rejects without navigating, so the page cannot loop.
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
] as const;
export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

/** 503 codes that mean "the gateway did not forward anything; the session is intact": safe to retry. */
export const RETRYABLE_CODES: readonly GatewayErrorCode[] = ['idp_unavailable', 'session_store_unavailable'];

/** `user` of GET /auth/session: the ID token's and UserInfo's claims, without protocol claims. */
export interface SessionUser {
  sub: string;
  name?: string;
  email?: string;
  email_verified?: boolean;
  [claim: string]: unknown;
}

/** 200 GET /auth/session. Never a token. */
export interface Session {
  authenticated: true;
  user: SessionUser;
  /** The absolute end of the session, epoch seconds. */
  expiresAt: number;
}

/**
 * A non-2xx answer (or no answer). `code` is the body's `error`: one of GATEWAY_ERROR_CODES when the
 * gateway answered, or an upstream API's own code; `http_error` when the body had none, and
 * `network_error` (status 0) when the request never got an answer.
 */
export class BffError extends Error {
  override readonly name = 'BffError';
  readonly status: number;
  readonly code: GatewayErrorCode | (string & {});
  /** 401 step_up_required: where to sign in with the stronger or fresher login (the SPA adds returnTo). */
  readonly loginUrl: string | undefined;
  /** The parsed JSON body, when there was one (an upstream's error may carry more than `error`). */
  readonly body: unknown;

  constructor(status: number, code: string, message: string, body?: unknown, loginUrl?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
    this.loginUrl = loginUrl;
  }

  /** Whether the gateway's contract defines this code (as opposed to an upstream API's own). */
  get isGatewayCode(): boolean {
    return (GATEWAY_ERROR_CODES as readonly string[]).includes(this.code);
  }
}

export interface RetryOptions {
  /** Retries after the first attempt. Default 3. */
  retries: number;
  /** First backoff delay; doubled per retry, with jitter. Default 300. */
  baseDelayMs: number;
  /** No single wait is longer: a Retry-After beyond it ends the retries. Default 5000. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = { retries: 3, baseDelayMs: 300, maxDelayMs: 5_000 };

export interface BffClientOptions {
  /** Prefix for every gateway URL; '' (default) is this page's origin. */
  baseUrl?: string;
  /**
   * Called on a 401 from api() instead of navigating to the sign-in page (e.g. to show "your session
   * has ended" first). The call still rejects with the same error.
   */
  onUnauthenticated?: (error: BffError) => void;
  /** Retry of 503 idp_unavailable / session_store_unavailable; `false`: none. */
  retry?: Partial<RetryOptions> | false;
  /** Defaults: the global fetch, location.assign, and location's path + query + fragment. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  navigate?: (url: string) => void;
  currentPath?: () => string;
  /** Defaults: setTimeout and Math.random (jitter). */
  sleep?: (ms: number, signal?: AbortSignal | null) => Promise<void>;
  random?: () => number;
  /**
   * Remembers a silent sign-in or step-up across its navigation (loop guards). Default: the page's
   * sessionStorage (none outside a browser: no guard).
   */
  storage?: KeyValueStorage;
  /** Rewrites the address bar without navigating (drops `login_error`). Default: history.replaceState. */
  replacePath?: (path: string) => void;
  /** Epoch ms. Default Date.now. */
  now?: () => number;
}

/** The part of the Web Storage API the client uses. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface BffClient {
  getSession(): Promise<Session | null>;
  login(returnTo?: string, loginUrl?: string): void;
  trySilentLogin(returnTo?: string): Promise<Session | null>;
  logout(): Promise<string>;
  api(path: string, init?: RequestInit): Promise<Response>;
  loginHref(returnTo?: string, loginUrl?: string): string;
}

/** The browser globals used, typed here so that this file needs no DOM library. */
interface BrowserGlobals {
  location?: { assign(url: string): void; pathname: string; search: string; hash: string };
  sessionStorage?: KeyValueStorage;
  history?: { replaceState(data: unknown, unused: string, url: string): void };
}

/** What the gateway appends to returnTo when a prompt=none sign-in needs the user (login_required, …). */
export const LOGIN_ERROR_PARAM = 'login_error';
const SILENT_KEY = 'bff-client:silent-login';
const STEP_UP_KEY = 'bff-client:step-up';
/** A guard older than this is forgotten: a later silent sign-in or step-up is a new one. */
const GUARD_MS = 60_000;

/** The `login_error` of a path's query, if any, as sent (an OAuth error code needs no decoding). */
export function loginErrorOf(path: string): string | undefined {
  const beforeHash = path.split('#', 1)[0] ?? '';
  const queryAt = beforeHash.indexOf('?');
  if (queryAt === -1) return undefined;
  for (const part of beforeHash.slice(queryAt + 1).split('&')) {
    const eq = part.indexOf('=');
    if ((eq === -1 ? part : part.slice(0, eq)) === LOGIN_ERROR_PARAM)
      return eq === -1 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

/** The path without its `login_error` parameters; the rest of the query and the fragment are kept. */
export function withoutLoginError(path: string): string {
  const hashAt = path.indexOf('#');
  const hash = hashAt === -1 ? '' : path.slice(hashAt);
  const [pathname = '', query] = (hashAt === -1 ? path : path.slice(0, hashAt)).split('?', 2);
  const kept = (query ?? '')
    .split('&')
    .filter((part) => part !== '' && part.split('=')[0] !== LOGIN_ERROR_PARAM);
  return `${pathname}${kept.length > 0 ? `?${kept.join('&')}` : ''}${hash}`;
}

/** Backoff before retry number `attempt` (1-based): base·2^(attempt-1), the upper half jittered, capped. */
export function backoffDelay(
  attempt: number,
  retry: RetryOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After (delta seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
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
export function retryWait(
  attempt: number,
  retry: RetryOptions,
  retryAfter: string | null,
  random: () => number = Math.random,
  now: number = Date.now(),
): number | undefined {
  if (attempt > retry.retries) return undefined;
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return asked <= retry.maxDelayMs ? asked : undefined;
  return backoffDelay(attempt, retry, random);
}

/** A non-2xx answer as a BffError; reads the body (JSON `{error, message, loginUrl?}` when it is). */
export async function errorFrom(response: Response): Promise<BffError> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof fields.error === 'string' && fields.error !== '' ? fields.error : 'http_error';
  const message =
    typeof fields.message === 'string' ? fields.message : `${response.status} ${response.statusText}`.trim();
  const loginUrl = typeof fields.loginUrl === 'string' ? fields.loginUrl : undefined;
  return new BffError(response.status, code, message, body, loginUrl);
}

/** A same-origin path (one leading '/', not '//' or '/\'), as the gateway's returnTo rule wants. */
function isLocalPath(value: string): boolean {
  return value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\');
}

/** Bodies fetch can send again; a stream is consumed by the first attempt. */
function isResendable(body: RequestInit['body']): boolean {
  const Stream = (globalThis as { ReadableStream?: abstract new () => unknown }).ReadableStream;
  return !(Stream && body instanceof Stream);
}

function defaultSleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function createBffClient(options: BffClientOptions = {}): BffClient {
  const base = options.baseUrl ?? '';
  const retry: RetryOptions | undefined =
    options.retry === false ? undefined : { ...DEFAULT_RETRY, ...options.retry };
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const doFetch = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init));
  const browser = globalThis as BrowserGlobals;
  const navigate =
    options.navigate ??
    ((url: string) => {
      if (!browser.location) throw new Error('bff-client: no location to navigate; pass options.navigate');
      browser.location.assign(url);
    });
  const currentPath =
    options.currentPath ??
    (() =>
      browser.location ? browser.location.pathname + browser.location.search + browser.location.hash : '/');
  const storage = options.storage ?? browser.sessionStorage;
  const replacePath =
    options.replacePath ?? ((path: string) => browser.history?.replaceState(null, '', path));
  const now = options.now ?? Date.now;

  /** Whether `key` holds `value` set less than GUARD_MS ago. */
  function guarded(key: string, value: string): boolean {
    const entry = storage?.getItem(key);
    if (entry === null || entry === undefined) return false;
    const [at, ...rest] = entry.split(' ');
    return rest.join(' ') === value && now() - Number(at) < GUARD_MS;
  }
  function guard(key: string, value: string): void {
    storage?.setItem(key, `${now()} ${value}`);
  }

  /** One gateway call with X-CSRF and the cookie; 503s the contract calls retryable are retried. */
  async function send(path: string, init: RequestInit = {}): Promise<Response> {
    if (!isLocalPath(path)) throw new TypeError(`bff-client: "${path}" is not a path on the gateway`);
    const headers = new Headers(init.headers);
    headers.set('X-CSRF', '1');
    const request: RequestInit = { credentials: 'same-origin', ...init, headers };
    const resendable = isResendable(init.body);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await doFetch(base + path, request);
      } catch (err) {
        if ((err as { name?: unknown } | null)?.name === 'AbortError') throw err;
        throw Object.assign(new BffError(0, 'network_error', `${path}: no answer from the gateway`), {
          cause: err,
        });
      }
      if (response.status !== 503 || retry === undefined || !resendable) return response;
      const error = await errorFrom(response.clone());
      const wait = RETRYABLE_CODES.includes(error.code as GatewayErrorCode)
        ? retryWait(attempt, retry, response.headers.get('retry-after'), random)
        : undefined;
      if (wait === undefined) return response;
      await response.body?.cancel().catch(() => {});
      await sleep(wait, init.signal);
    }
  }

  function loginHref(returnTo?: string, loginUrl?: string): string {
    const target = returnTo !== undefined && isLocalPath(returnTo) ? returnTo : currentPath();
    // A step-up loginUrl comes from the gateway; anything that is not one of its paths is ignored.
    const start = loginUrl !== undefined && loginUrl.startsWith('/auth/login') ? loginUrl : '/auth/login';
    const separator = start.includes('?') ? '&' : '?';
    return `${base}${start}${separator}returnTo=${encodeURIComponent(target)}`;
  }

  async function getSession(): Promise<Session | null> {
    // The gateway answers with Cache-Control: no-store, so no cache mode is needed here.
    const response = await send('/auth/session', { headers: { accept: 'application/json' } });
    if (response.status === 401) {
      await response.body?.cancel().catch(() => {});
      return null;
    }
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as Session;
  }

  return {
    loginHref,

    login(returnTo, loginUrl) {
      navigate(loginHref(returnTo, loginUrl));
    },

    async trySilentLogin(returnTo) {
      const here = currentPath();
      // Back from an attempt the IdP could not complete without the user: signed out, URL cleaned.
      if (loginErrorOf(here) !== undefined) {
        storage?.removeItem(SILENT_KEY);
        replacePath(withoutLoginError(here));
        return null;
      }
      const session = await getSession();
      // Signed in (perhaps by the attempt), or an attempt just made that came back without a session.
      if (session !== null || guarded(SILENT_KEY, 'prompt=none')) {
        storage?.removeItem(SILENT_KEY);
        return session;
      }
      guard(SILENT_KEY, 'prompt=none');
      navigate(loginHref(returnTo, '/auth/login?prompt=none'));
      // The page is leaving; it comes back to returnTo, where trySilentLogin() then resolves.
      return new Promise<never>(() => {});
    },

    getSession,

    async logout() {
      const response = await send('/auth/logout', {
        method: 'POST',
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw await errorFrom(response);
      const body = (await response.json().catch(() => ({}))) as { logoutUrl?: unknown };
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
        else if (error.code !== 'step_up_required' || error.loginUrl === undefined)
          navigate(loginHref(undefined, error.loginUrl));
        else if (!guarded(STEP_UP_KEY, error.loginUrl)) {
          // The same step-up again right after one: the IdP did not give what the route needs.
          guard(STEP_UP_KEY, error.loginUrl);
          navigate(loginHref(undefined, error.loginUrl));
        }
      }
      throw error;
    },
  };
}

/** A client for this page's origin with the defaults: a 401 navigates to the sign-in page. */
const defaultClient = createBffClient();
export const getSession = (): Promise<Session | null> => defaultClient.getSession();
export const login = (returnTo?: string, loginUrl?: string): void => defaultClient.login(returnTo, loginUrl);
export const trySilentLogin = (returnTo?: string): Promise<Session | null> =>
  defaultClient.trySilentLogin(returnTo);
export const logout = (): Promise<string> => defaultClient.logout();
export const api = (path: string, init?: RequestInit): Promise<Response> => defaultClient.api(path, init);
