/**
 * The sign-in options a browser may ask for on /auth/login (`prompt`, `acr_values`, `max_age`,
 * `login_hint`, `ui_locales`): each checked against its form and length, anything else dropped. They
 * reach the IdP's authorization request, so a value outside its form is dropped rather than passed
 * on for the IdP to misread (an unknown prompt, a negative max_age, a hint with control characters).
 */

export const PROMPTS = ['none', 'login', 'consent', 'select_account'] as const;
export type Prompt = (typeof PROMPTS)[number];

export interface LoginOptions {
  prompt?: Prompt;
  /** Space-separated ACR values, in the order asked. */
  acrValues?: string;
  /** Seconds; the ID token's auth_time is then checked against it. */
  maxAge?: number;
  loginHint?: string;
  /** Space-separated BCP 47 language tags. */
  uiLocales?: string;
}

const MAX_ACR_VALUES = 10;
const MAX_ACR_LENGTH = 512;
const MAX_LOGIN_HINT_LENGTH = 256;
const MAX_UI_LOCALES = 10;
const MAX_UI_LOCALES_LENGTH = 128;
/** ~31 years: larger values mean "no limit" to every IdP, and stay a safe integer in milliseconds. */
const MAX_MAX_AGE = 999_999_999;

// RFC 6749 appendix A: NQCHAR-like scope tokens (printable ASCII without space, `"` and `\`).
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** One string value of a query parameter; repeated or absent parameters give undefined. */
function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function spaceList(value: string, item: RegExp, maxItems: number, maxLength: number): string | undefined {
  if (value.length > maxLength) return undefined;
  const items = value.split(' ').filter((v) => v.length > 0);
  if (items.length === 0 || items.length > maxItems || !items.every((v) => item.test(v))) return undefined;
  return items.join(' ');
}

export function parsePrompt(value: string | undefined): Prompt | undefined {
  return (PROMPTS as readonly string[]).includes(value ?? '') ? (value as Prompt) : undefined;
}

/** A non-negative integer of digits only (`10`, not `1e1`, `-1`, `1.5` or ` 10`). */
export function parseMaxAge(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  const seconds = Number(value);
  return seconds <= MAX_MAX_AGE ? seconds : undefined;
}

/** The options found in a query (Express's `req.query`); every other parameter is ignored. */
export function parseLoginOptions(query: Record<string, unknown>): LoginOptions {
  const options: LoginOptions = {};
  const prompt = parsePrompt(single(query, 'prompt'));
  if (prompt !== undefined) options.prompt = prompt;
  const acr = single(query, 'acr_values');
  const acrValues = acr === undefined ? undefined : spaceList(acr, ACR_VALUE, MAX_ACR_VALUES, MAX_ACR_LENGTH);
  if (acrValues !== undefined) options.acrValues = acrValues;
  const maxAge = parseMaxAge(single(query, 'max_age'));
  if (maxAge !== undefined) options.maxAge = maxAge;
  const hint = single(query, 'login_hint');
  if (hint !== undefined && hint.length <= MAX_LOGIN_HINT_LENGTH && !CONTROL.test(hint))
    options.loginHint = hint;
  const locales = single(query, 'ui_locales');
  const uiLocales =
    locales === undefined
      ? undefined
      : spaceList(locales, LANGUAGE_TAG, MAX_UI_LOCALES, MAX_UI_LOCALES_LENGTH);
  if (uiLocales !== undefined) options.uiLocales = uiLocales;
  return options;
}

/** The authorization-request parameters for the options, in a fixed order. */
export function loginOptionParams(options: LoginOptions): [string, string][] {
  const params: [string, string][] = [];
  if (options.prompt !== undefined) params.push(['prompt', options.prompt]);
  if (options.acrValues !== undefined) params.push(['acr_values', options.acrValues]);
  if (options.maxAge !== undefined) params.push(['max_age', String(options.maxAge)]);
  if (options.loginHint !== undefined) params.push(['login_hint', options.loginHint]);
  if (options.uiLocales !== undefined) params.push(['ui_locales', options.uiLocales]);
  return params;
}
