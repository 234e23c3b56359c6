/**
 * Adversarial corpus generators for the rest of a request: any method (known or garbage), random body
 * bytes, chunk sizes and a chunked body.
 */
import fc from 'fast-check';
import { METHODS } from 'node:http';

/** Every method Node's parser knows, plus garbage tokens (some are not tokens at all). */
export const anyMethod: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...METHODS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'get',
      'GeT',
      'FOO',
      'G ET',
      'GET\t',
      'X'.repeat(300),
      'PRI',
      'BREW',
      '',
      '\u00e9',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z!#$%&'*+.^_`|~-]{1,10}$/) },
);

/** Random bytes of random length (sometimes large). */
export const bodyBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1_000, maxLength: 70_000 }) },
);

/** Split sizes for a chunked body. */
export const chunkSizes: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 5_000 }), {
  minLength: 1,
  maxLength: 8,
});

/** `body` as a chunked message body with chunks of `sizes` (the rest in one last chunk). */
export function chunkedBody(body: Uint8Array, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of [...sizes, body.length]) {
    if (at >= body.length) break;
    const chunk = body.subarray(at, at + size);
    at += chunk.length;
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), Buffer.from(chunk), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}
