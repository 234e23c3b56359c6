/**
 * The SPA client's pure parts: the backoff bound, Retry-After, when retrying stops, and how an answer
 * becomes a BffError (real Response objects, as fetch gives them).
 */
import { describe, expect, it } from 'vitest';
import {
  BffError,
  DEFAULT_RETRY,
  backoffDelay,
  errorFrom,
  parseRetryAfter,
  retryWait,
} from '../../client/bff-client.js';

const retry = { retries: 4, baseDelayMs: 100, maxDelayMs: 500 };

describe('backoffDelay', () => {
  it('doubles per attempt, jitters the upper half, and never exceeds maxDelayMs', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, retry, () => 0))).toEqual([50, 100, 200, 250, 250]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, retry, () => 1))).toEqual([100, 200, 400, 500, 500]);
    for (let attempt = 1; attempt <= 30; attempt++) {
      const delay = backoffDelay(attempt, retry, Math.random);
      expect(delay).toBeGreaterThanOrEqual(Math.min(50 * 2 ** (attempt - 1), 250));
      expect(delay).toBeLessThanOrEqual(retry.maxDelayMs);
    }
  });

  it('the defaults wait at most 3 × 5 s in all', () => {
    expect(DEFAULT_RETRY).toEqual({ retries: 3, baseDelayMs: 300, maxDelayMs: 5_000 });
    const worst = [1, 2, 3].reduce((sum, n) => sum + backoffDelay(n, DEFAULT_RETRY, () => 1), 0);
    expect(worst).toBe(300 + 600 + 1200);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-01T10:00:00Z');
  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Tue, 01 Dec 2026 10:00:02 GMT', 2000],
    ['Tue, 01 Dec 2026 09:59:00 GMT', 0], // a date in the past: no wait
  ])('%j → %d ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
  it.each([null, '', 'soon', '-1', '1.5'])('%j → undefined', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('retryWait', () => {
  it('backs off until the retries are used up', () => {
    const waits = [1, 2, 3, 4, 5].map((n) => retryWait(n, retry, null, () => 1));
    expect(waits).toEqual([100, 200, 400, 500, undefined]);
  });

  it("respects the server's Retry-After, and stops rather than wait longer than maxDelayMs", () => {
    expect(retryWait(1, retry, '0', () => 1)).toBe(0);
    expect(retryWait(3, retry, '1', () => 1)).toBeUndefined(); // 1000 ms > 500 ms
    expect(retryWait(1, { ...retry, maxDelayMs: 2_000 }, '2', () => 0)).toBe(2_000);
    expect(retryWait(5, { ...retry, maxDelayMs: 2_000 }, '1', () => 0)).toBeUndefined(); // no retries left
  });
});

describe('errorFrom', () => {
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it("a gateway error: the contract's code and message", async () => {
    const err = await errorFrom(
      json(503, { error: 'session_store_unavailable', message: 'the session store does not answer' }),
    );
    expect(err).toBeInstanceOf(BffError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'BffError',
      status: 503,
      code: 'session_store_unavailable',
      message: 'the session store does not answer',
      loginUrl: undefined,
      isGatewayCode: true,
    });
  });

  it('step_up_required carries loginUrl', async () => {
    const loginUrl = '/auth/login?acr_values=urn%3Aexample%3Amfa';
    const err = await errorFrom(json(401, { error: 'step_up_required', message: 'm', loginUrl }));
    expect(err).toMatchObject({ status: 401, code: 'step_up_required', loginUrl });
  });

  it("an upstream's own error keeps its code and whole body", async () => {
    const body = { error: 'insufficient_scope', scope: 'api:write' };
    const err = await errorFrom(json(403, body));
    expect(err).toMatchObject({ status: 403, code: 'insufficient_scope', body, isGatewayCode: false });
  });

  it('a body that is not JSON, or has no error: http_error with the status line', async () => {
    const html = await errorFrom(new Response('<h1>oops</h1>', { status: 500, statusText: 'Server Error' }));
    expect(html).toMatchObject({
      status: 500,
      code: 'http_error',
      message: '500 Server Error',
      body: undefined,
    });
    const empty = await errorFrom(new Response(null, { status: 502 }));
    expect(empty).toMatchObject({ status: 502, code: 'http_error', message: '502' });
    const odd = await errorFrom(json(400, ['error']));
    expect(odd).toMatchObject({ status: 400, code: 'http_error', body: ['error'] });
  });
});
