/**
 * Adversarial corpus generators for headers: attacker-controlled values (printable, long, with
 * separators) and names (framing, hop-by-hop, steering, garbage).
 */
import fc from 'fast-check';

/** Header values an attacker controls (printable, sometimes long, sometimes with separators). */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
  fc.constantFrom(
    '',
    ' ',
    'null',
    '1',
    '0',
    'true',
    '1, 1',
    'chunked',
    'close',
    'keep-alive',
    'upgrade',
    'evil.example',
  ),
  fc.integer({ min: 10, max: 9_000 }).map((n) => 'v'.repeat(n)),
);

export const headerName: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
  fc.constantFrom(
    'Host',
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
    'Cookie',
    'Authorization',
    'X-CSRF',
    'Origin',
    'Sec-Fetch-Site',
    'Upgrade',
    'TE',
    'Trailer',
    'Keep-Alive',
    'Proxy-Connection',
    'Proxy-Authorization',
    'Forwarded',
    'X-Forwarded-For',
    'X-Forwarded-Host',
    'X-Forwarded-Proto',
    'X-Forwarded-Port',
    'X-Forwarded-Prefix',
    'X-Real-IP',
    'True-Client-IP',
    'X-Original-URL',
    'X-Rewrite-URL',
    'X-HTTP-Method-Override',
    'X-Method-Override',
    'Expect',
  ),
);
