/**
 * RFC 9470: an upstream answers 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication",
 * acr_values="…", max_age=…` when the user's sign-in is too weak or too old for it. This finds that
 * challenge among any others (RFC 9110 §11.6.1: several challenges per header, several headers,
 * quoted strings with escapes, token68) and keeps only values that are safe to put in a login URL.
 */

export interface Challenge {
  /** Lower-cased. */
  scheme: string;
  /** Parameter names lower-cased; the first of a repeated name wins. */
  params: Map<string, string>;
}

export interface StepUpRequest {
  acr: string[] | undefined;
  /** Seconds. */
  maxAge: number | undefined;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;
// What /auth/login keeps (oidc/login-options.ts): values it would drop must not make the loginUrl.
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;
const MAX_ACR_VALUES = 10;
const MAX_ACR_LENGTH = 512;

/** Every challenge in one `WWW-Authenticate` value. Malformed parts are skipped, never guessed at. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let current: Challenge | undefined;
  let i = 0;
  const n = header.length;
  const skipSpace = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TCHAR.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
    if (i >= n) break;
    const name = readToken();
    if (name === '') {
      // Not a token: skip to the next list element.
      while (i < n && header[i] !== ',') i++;
      continue;
    }
    const afterName = i;
    skipSpace();
    if (header[i] === '=' && current !== undefined && !isToken68End(header, afterName)) {
      i++;
      skipSpace();
      const value = header[i] === '"' ? readQuoted() : readToken();
      if (value !== undefined && !current.params.has(name.toLowerCase())) {
        current.params.set(name.toLowerCase(), value);
      }
      continue;
    }
    // A new challenge: its scheme, then a token68, auth-params, or nothing.
    i = afterName;
    current = { scheme: name.toLowerCase(), params: new Map() };
    challenges.push(current);
    skipSpace();
    const token68 = TOKEN68.exec(header.slice(i));
    if (token68 && isListEnd(header, i + token68[0].length)) i += token68[0].length;
  }
  return challenges;

  /** A quoted-string from the opening quote; undefined (and the rest of the element skipped) if unterminated. */
  function readQuoted(): string | undefined {
    let out = '';
    for (i++; i < n; i++) {
      const c = header[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\' && i + 1 < n) i++;
      out += header[i];
    }
    return undefined;
  }
}

/** `name=` followed by only more `=` and the element's end: a token68 (`abc==`), not a parameter. */
function isToken68End(header: string, afterName: number): boolean {
  let j = afterName;
  while (header[j] === '=') j++;
  return j > afterName + 1 || isListEnd(header, j);
}

function isListEnd(header: string, at: number): boolean {
  let j = at;
  while (header[j] === ' ' || header[j] === '\t') j++;
  return j >= header.length || header[j] === ',';
}

/**
 * The RFC 9470 step-up request among the `WWW-Authenticate` values of a 401, or undefined when there is
 * none. A Bearer (or DPoP, RFC 9449) challenge with `error="insufficient_user_authentication"`; its
 * `acr_values` (printable ASCII without `"` and `\`, at most 10 and 512 characters) and `max_age` (a
 * non-negative integer of at most 9 digits) are kept when valid, anything else is dropped.
 */
export function findStepUpChallenge(values: readonly string[]): StepUpRequest | undefined {
  for (const value of values) {
    for (const c of parseChallenges(value)) {
      if (c.scheme !== 'bearer' && c.scheme !== 'dpop') continue;
      if (c.params.get('error') !== 'insufficient_user_authentication') continue;
      return {
        acr: validAcrValues(c.params.get('acr_values')),
        maxAge: validMaxAge(c.params.get('max_age')),
      };
    }
  }
  return undefined;
}

function validAcrValues(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const values = text
    .split(' ')
    .filter((v) => ACR_VALUE.test(v))
    .slice(0, MAX_ACR_VALUES);
  // The first values are the upstream's preference: keep as many of them as fit.
  while (values.join(' ').length > MAX_ACR_LENGTH) values.pop();
  return values.length > 0 ? values : undefined;
}

function validMaxAge(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}
