/**
 * Adversarial corpus generators for request targets: hostile path segments (dot segments, encoded
 * separators, controls, bytes), path prefixes, queries and the rare overlong path.
 */
import fc from 'fast-check';
import { decodeUnreserved } from './corpus-oracles.js';

/** Leaves the recording upstream treats specially (`hang` never answers): never generated as a last segment. */
const UPSTREAM_SPECIAL = new Set(['notes', 'respond', 'hang', 'sse', 'die-mid-body']);

const TRICKY_SEGMENTS = [
  '',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2e%2e',
  '.%2E',
  '%2e.',
  '..;',
  ';',
  'a;b',
  ';jsessionid=1',
  '%3b',
  '%3B',
  'a%2fb',
  '%2F',
  '%5c',
  '%5C',
  'a\\b',
  '%00',
  '\u0000',
  '%',
  '%4',
  '%zz',
  '%ff',
  '%C3%A9',
  '%41dmin',
  '%61%64%6d%69%6e',
  '%7e',
  '%2D',
  '%5F',
  '%20',
  '+',
  'é',
  '\u202e',
  '\ufeff',
  '\u{1f600}',
  '\t',
  ' ',
  '\r',
  '\n',
  '\u007f',
  '*',
  '?',
  '#',
  '@',
  ':',
  'admin',
  'ADMIN',
  '.well-known',
  '...',
  'a.',
  '.a',
];

const PATH_PREFIXES = [
  '/api',
  '/api/opt',
  '/api/pub',
  '/api/lim',
  '/api/cc',
  '/API',
  '/apix',
  '/auth',
  '/auth/login',
  '/auth/callback',
  '/auth/session',
  '/auth/logout',
  '/auth/backchannel-logout',
  '/auth/unknown',
  '',
  '/x',
  '/healthz',
  '/readyz',
  '/metrics',
  // Not origin-form: refused whatever follows.
  'http://evil.example/api',
  `http://127.0.0.1/api`,
  '*',
  'api',
];

export const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z0-9\-._~]{1,12}$/) },
  { weight: 4, arbitrary: fc.constantFrom(...TRICKY_SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 })
      .map((bytes) => bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  },
);

/** A raw request target (sent byte for byte, UTF-8): a prefix, hostile segments, maybe a query. */
export const hostileTarget: fc.Arbitrary<string> = fc
  .record({
    prefix: fc.constantFrom(...PATH_PREFIXES),
    segments: fc.array(segment, { maxLength: 5 }),
    trailingSlash: fc.boolean(),
    query: fc.option(fc.constantFrom('?a=1', '?', '?x=%00', '?returnTo=//evil', '?a=..%2f', '?;'), {
      nil: undefined,
    }),
    // Rare: a path of 1,000 to 20,000 bytes (over Node's 16 KiB head limit from about 16,000).
    overlong: fc.oneof(
      { weight: 15, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }) },
    ),
  })
  .map(({ prefix, segments, trailingSlash, query, overlong }) => {
    const tail = segments.map((s) => `/${s}`).join('');
    const long = overlong === undefined ? '' : `/${'a'.repeat(overlong)}`;
    const path = `${prefix}${tail}${long}${trailingSlash ? '/' : ''}` || '/';
    return `${path}${query ?? ''}`;
  })
  .filter((target) => !UPSTREAM_SPECIAL.has(lastSegment(target)));

function lastSegment(target: string): string {
  const path = target.split('?')[0] ?? '';
  const leaf = path.slice(path.lastIndexOf('/') + 1);
  return decodeUnreserved(leaf).toLowerCase();
}
