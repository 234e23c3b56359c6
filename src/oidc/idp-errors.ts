import * as client from 'openid-client';

/**
 * True when an IdP call failed because the IdP could not be reached or broke (network error, timeout,
 * 5xx), as opposed to the IdP deliberately refusing (a 4xx OAuth error, a failed validation).
 * Transient failures must never end a session.
 */
export function isTransientIdpError(err: unknown): boolean {
  if (err instanceof client.ResponseBodyError) return err.status >= 500;
  if (err instanceof client.ClientError) {
    // Non-JSON or non-conforming answers from a broken IdP (HTML 502 page from its proxy, ...).
    const status = (err.cause as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number' && status >= 500) return true;
    return false;
  }
  if (err instanceof Error) {
    // fetch: TypeError('fetch failed') for refused/reset/DNS; AbortSignal.timeout: TimeoutError/AbortError.
    return err.name === 'TypeError' || err.name === 'TimeoutError' || err.name === 'AbortError';
  }
  return false;
}

/** The OAuth `error` code of a refusal, if the IdP gave one. */
export function oauthErrorCode(err: unknown): string | undefined {
  if (err instanceof client.ResponseBodyError) return err.error;
  if (err instanceof client.AuthorizationResponseError) return err.error;
  return undefined;
}

/**
 * How a failed refresh affects the session:
 * - `transient`: the IdP could not be reached or broke; keep the session, answer 503.
 * - `misconfigured`: the IdP refused the gateway itself (invalid_client); keep every session so that
 *   fixing the configuration restores service, answer 503 and log an error.
 * - `terminal`: the IdP refused this grant (invalid_grant and the like); end the session.
 */
export function classifyRefreshError(err: unknown): 'transient' | 'misconfigured' | 'terminal' {
  if (isTransientIdpError(err)) return 'transient';
  if (oauthErrorCode(err) === 'invalid_client') return 'misconfigured';
  return 'terminal';
}
