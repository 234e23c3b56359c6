import { Invalid } from './invalid.js';

/** Far above any sane per-client limit; a typo of extra digits is caught instead of meaning "no limit". */
const MAX_PER_MINUTE = 1_000_000;

/**
 * RATE_LIMIT_LOGIN / rateLimit.login: login starts and callbacks per client IP per minute. A whole
 * number; 0 turns the limit off (for deployments that limit at the proxy instead).
 */
export function parseLoginRateLimit(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_PER_MINUTE) {
    throw new Invalid(
      `must be a whole number of requests per minute from 0 (off) to ${MAX_PER_MINUTE} (got ${JSON.stringify(value)})`,
    );
  }
  return n;
}
