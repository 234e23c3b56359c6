/**
 * The checks every adversarial corpus answer must pass (contract statuses and error codes, no stack
 * trace, no secret echoed), the per-property outcome counts, and an answer's JSON error code.
 */
import type { RawResponse } from './raw-http.js';

/** Every `error` code of the contract's table, plus the HTML pages' codes (`/auth/callback`, `/auth/login`). */
export const CONTRACT_CODES = new Set([
  'bad_request',
  'not_found',
  'rate_limited',
  'unauthenticated',
  'session_expired',
  'csrf_required',
  'forbidden',
  'step_up_required',
  'method_not_allowed',
  'invalid_request',
]);

/** Statuses a hostile request may get (no 5xx: the stack's IdP, store and upstream are all up). */
export const CLIENT_STATUSES = new Set([
  200, 204, 302, 303, 400, 401, 403, 404, 405, 408, 413, 414, 429, 431,
]);

const STACK_TRACE = /\n\s+at [^\n]*(?:\(|:\d+:\d+)|\bat (?:async )?[\w.<>]+ \((?:file|node):/;

export interface AnswerRules {
  /** Values that must never appear in a body the gateway wrote (tokens, cookie values, ids). */
  secrets: string[];
  /** The body is the upstream's (forwarded): secrets it echoes are not the gateway's doing. */
  fromUpstream?: boolean;
  /** The request's method: answers to HEAD have no body to check. */
  method?: string;
  /** Statuses allowed besides CLIENT_STATUSES (none by default). */
  alsoAllowed?: number[];
}

/** Throws (with the request's description) when an answer breaks a contract rule that holds everywhere. */
export function checkAnswer(res: RawResponse, rules: AnswerRules, what: string): void {
  const fail = (why: string): never => {
    throw new Error(`${why}\n  request: ${what}\n  answer: ${res.status} ${res.text.slice(0, 400)}`);
  };
  if (!CLIENT_STATUSES.has(res.status) && !(rules.alsoAllowed ?? []).includes(res.status))
    fail(`status ${res.status} is not a contract answer here`);
  if (STACK_TRACE.test(res.text)) fail('stack trace in the body');
  if (rules.fromUpstream || rules.method === 'HEAD') return;
  for (const secret of rules.secrets)
    if (secret.length >= 8 && res.text.includes(secret))
      fail(`a secret is echoed in the body: ${secret.slice(0, 6)}…`);
  const type = res.header('content-type') ?? '';
  if (res.status >= 400 && type.includes('application/json')) {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      fail('a JSON error that does not parse');
    }
    const obj = body as Record<string, unknown>;
    const keys = Object.keys(obj).sort().join(',');
    if (keys !== 'error,message' && !(obj.error === 'step_up_required' && keys === 'error,loginUrl,message'))
      fail(`JSON error body is not {"error","message"}: ${keys}`);
    if (typeof obj.error !== 'string' || !CONTRACT_CODES.has(obj.error))
      fail(`unknown error code ${String(obj.error)}`);
    if (typeof obj.message !== 'string') fail('message is not a string');
    if (res.header('cache-control') !== 'no-store') fail('JSON error without Cache-Control: no-store');
  }
}

/** How often each outcome was seen, per property: printed with the case count, so coverage is visible. */
export class Outcomes {
  private readonly seen = new Map<string, Map<string, number>>();

  add(property: string, outcome: string): void {
    const m = this.seen.get(property) ?? new Map<string, number>();
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
    this.seen.set(property, m);
  }

  summary(): string {
    return [...this.seen]
      .map(
        ([p, m]) =>
          `  ${p}: ${[...m]
            .sort((a, b) => b[1] - a[1])
            .map(([o, n]) => `${o} ×${n}`)
            .join(', ')}`,
      )
      .join('\n');
  }
}

/** The JSON error code of an answer, or undefined. */
export function errorCode(res: RawResponse): string | undefined {
  if (!(res.header('content-type') ?? '').includes('json')) return undefined;
  try {
    const body = JSON.parse(res.text) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : undefined;
  } catch {
    return undefined;
  }
}
