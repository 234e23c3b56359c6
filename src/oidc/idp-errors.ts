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
 * What the IdP answered, for classification and the log line (no token in it: status, the OAuth error
 * code and its description only).
 */
export interface IdpFailure {
  /** The HTTP status, when the IdP answered at all. */
  status?: number;
  error?: string;
  error_description?: string;
  /** The WWW-Authenticate scheme of a challenge, lower-cased (`basic`, `bearer`, ...). */
  challenge?: string;
}

/** How much of an error body is read: an OAuth error is a few hundred bytes; a hostile IdP gets no more. */
const MAX_ERROR_BODY = 4096;

/** What annotateIdpRefusal() sets on a challenge: the fields a ResponseBodyError has of its own. */
type AnnotatedChallenge = client.WWWAuthenticateChallengeError & {
  error?: unknown;
  error_description?: unknown;
};

/**
 * The IdP's answer behind a failed call. openid-client throws a WWW-Authenticate challenge before
 * reading the body, so `invalid_client` in a `401 + WWW-Authenticate: Basic` answer is found here from
 * the challenge's parameters or, failing that, the JSON body.
 */
export async function describeIdpFailure(err: unknown): Promise<IdpFailure> {
  if (err instanceof client.ResponseBodyError) {
    return withDescription({ status: err.status, error: err.error }, err.error_description);
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    // Several challenges (Bearer and DPoP): the one that says what went wrong.
    const first = err.cause.find((c) => typeof c.parameters.error === 'string') ?? err.cause[0];
    const params = first?.parameters;
    const failure: IdpFailure = { status: err.status, ...(first ? { challenge: first.scheme } : {}) };
    if (params?.error) return withDescription({ ...failure, error: params.error }, params.error_description);
    // Already read by annotateIdpRefusal (a body is read once).
    const annotated = err as AnnotatedChallenge;
    if (typeof annotated.error === 'string')
      return withDescription({ ...failure, error: annotated.error }, annotated.error_description);
    const body = await readErrorBody(err.response);
    return body?.error ? withDescription({ ...failure, error: body.error }, body.error_description) : failure;
  }
  if (err instanceof client.ClientError) {
    const status = (err.cause as { status?: unknown } | undefined)?.status;
    return typeof status === 'number' ? { status } : {};
  }
  return {};
}

/**
 * Sets the IdP's `error` and `error_description` on a WWW-Authenticate challenge error, from the
 * challenge or its JSON body, as a ResponseBodyError carries them: every log line that describes the
 * error (describeError) then names `invalid_client` behind a 401, whichever call it came from.
 * Called once per failed IdP call (IdentityProvider.call), before any caller sees the error.
 */
export async function annotateIdpRefusal(err: unknown): Promise<void> {
  if (!(err instanceof client.WWWAuthenticateChallengeError)) return;
  const { error, error_description } = await describeIdpFailure(err);
  if (error === undefined) return;
  const annotated = err as AnnotatedChallenge;
  annotated.error = error;
  if (error_description !== undefined) annotated.error_description = error_description;
}

function withDescription(failure: IdpFailure, description: unknown): IdpFailure {
  return typeof description === 'string'
    ? { ...failure, error_description: description.slice(0, 300) }
    : failure;
}

async function readErrorBody(
  response: Response,
): Promise<{ error?: string; error_description?: unknown } | undefined> {
  if (response.bodyUsed || !response.body) return undefined;
  try {
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size > MAX_ERROR_BODY) {
        await reader.cancel();
        return undefined;
      }
    }
    const json: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (json === null || typeof json !== 'object') return undefined;
    const { error, error_description } = json as Record<string, unknown>;
    return typeof error === 'string' ? { error, error_description } : undefined;
  } catch {
    return undefined; // not JSON, or the IdP hung up: the status alone is logged
  }
}

/**
 * How a failed refresh affects the session (contract, `session_expired` / `idp_unavailable`):
 * - `terminal`: the IdP refused this grant for good (`invalid_grant`, or a 400 `invalid_request`);
 *   end the session.
 * - `misconfigured`: the IdP refused the gateway itself (any 401, `invalid_client`, 403, any other
 *   4xx such as `unsupported_grant_type`); keep every session so that fixing the configuration
 *   restores service, answer 503 and log an error.
 * - `transient`: no answer, a timeout, 429, 5xx, or anything unexpected; keep the session, answer 503.
 * Ending a session is the one step that cannot be undone, so only the two unambiguous codes do it.
 */
export function classifyRefreshFailure(failure: IdpFailure): 'transient' | 'misconfigured' | 'terminal' {
  const { status, error } = failure;
  if (status === undefined || status === 429 || status >= 500 || status < 400) return 'transient';
  // A 401 is about the client's authentication (RFC 6749 §5.2), whatever code it carries.
  if (status === 401 || error === 'invalid_client') return 'misconfigured';
  if (error === 'invalid_grant') return 'terminal';
  if (status === 400 && error === 'invalid_request') return 'terminal';
  return 'misconfigured';
}
