/**
 * A route's `require` against the session's claims (ID token + UserInfo at sign-in, updated from a
 * refreshed ID token): pure, no I/O. Claims first, since a stronger sign-in cannot change who the user
 * is (403 `forbidden`); then the sign-in itself, which a new sign-in can fix (401 `step_up_required`).
 */
import type { ClaimValue, RoutePolicy } from '../config/types.js';
import { ForbiddenError, StepUpRequiredError } from '../errors.js';

/** Throws the contract's error when `claims` (the session's) do not satisfy `policy` at `now` (epoch ms). */
export function checkRoutePolicy(policy: RoutePolicy, claims: Record<string, unknown>, now: number): void {
  for (const [name, allowed] of policy.claims) {
    if (!claimMatches(claims[name], allowed)) throw new ForbiddenError();
  }
  if (!acrSatisfied(policy, claims.acr) || !authTimeSatisfied(policy, claims.auth_time, now)) {
    throw new StepUpRequiredError(stepUpLoginUrl(policy.acr, policy.maxAgeMs));
  }
}

/**
 * A scalar claim matches when it is one of the allowed values, an array claim when it shares one.
 * Values compare as JSON values: `true` is not `"true"`, `1` is not `"1"`. Absent, null or object: no.
 */
export function claimMatches(value: unknown, allowed: readonly ClaimValue[]): boolean {
  if (Array.isArray(value)) return value.some((v) => allowed.includes(v as ClaimValue));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return allowed.includes(value);
  }
  return false;
}

function acrSatisfied(policy: RoutePolicy, acr: unknown): boolean {
  return policy.acr === undefined || (typeof acr === 'string' && policy.acr.includes(acr));
}

/**
 * `auth_time` (epoch seconds) at most `maxAge` old, counted in whole seconds as OIDC's `max_age` is
 * (oidc-provider re-authenticates when `now - auth_time > max_age`): a sign-in the IdP still takes as
 * fresh enough is not refused here, so a step-up cannot loop. Without `auth_time`: never satisfied.
 */
function authTimeSatisfied(policy: RoutePolicy, authTime: unknown, now: number): boolean {
  if (policy.maxAgeMs === undefined) return true;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return false;
  return Math.floor(now / 1000) - authTime <= policy.maxAgeMs / 1000;
}

/**
 * The sign-in that satisfies the route: every requirement it has, so that the new session meets all of
 * them (`max_age` also obliges the IdP to return `auth_time`). The SPA adds `returnTo`.
 */
export function stepUpLoginUrl(acr: readonly string[] | undefined, maxAgeMs: number | undefined): string {
  const params = new URLSearchParams();
  if (acr !== undefined && acr.length > 0) params.set('acr_values', acr.join(' '));
  if (maxAgeMs !== undefined) params.set('max_age', String(Math.floor(maxAgeMs / 1000)));
  const query = params.toString();
  // URLSearchParams writes spaces as '+'; %20 reads the same everywhere and cannot be mistaken.
  return query === '' ? '/auth/login' : `/auth/login?${query.replace(/\+/g, '%20')}`;
}
