import { createHash, createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Invalid } from './invalid.js';

/** The private_key_jwt signing key (OIDC_CLIENT_PRIVATE_KEY), parsed at start-up. */
export interface ClientPrivateKey {
  /** A KeyObject: its material never shows up in JSON.stringify or a log line. */
  key: KeyObject;
  /** The client assertion's `alg`: follows the key. */
  alg: string;
  kid: string;
}

/** Algorithms a client assertion may use, by key type (the first is the default). */
const ALGS_BY_TYPE: Record<string, readonly string[]> = {
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'ec:prime256v1': ['ES256'],
  'ec:secp384r1': ['ES384'],
  'ec:secp521r1': ['ES512'],
  ed25519: ['EdDSA'],
};

/**
 * Reads a PEM (PKCS#8; PKCS#1 and SEC1 work too) or JWK private key file. Throws Invalid (naming
 * neither the key nor its contents) when it cannot be read, parsed, or used for a client assertion.
 */
export function loadClientPrivateKey(file: string, kidOverride: string | undefined): ClientPrivateKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Invalid(`names ${file}, which cannot be read (${code}): check the path and its permissions`);
  }
  const jwk = text.trimStart().startsWith('{') ? parseJwk(text, file) : undefined;
  let key: KeyObject;
  try {
    key = jwk
      ? createPrivateKey({ key: jwk, format: 'jwk' })
      : createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new Invalid(
      `names ${file}, which does not hold a private key: use a PEM (PKCS#8, "BEGIN PRIVATE KEY") or a private JWK (RSA, EC P-256/384/521 or Ed25519)`,
    );
  }
  const type =
    key.asymmetricKeyType === 'ec' ? `ec:${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
  const algs = ALGS_BY_TYPE[type ?? ''];
  if (algs === undefined) {
    // Node 20 cannot export an RSASSA-PSS-only key as a JWK (needed to sign and for the thumbprint).
    const hint = type === 'rsa-pss' ? ' (for PS256: a plain RSA key as a JWK with "alg": "PS256")' : '';
    throw new Invalid(
      `names ${file}, a ${type ?? 'unknown'} key: use an RSA, EC (P-256/384/521) or Ed25519 key${hint}`,
    );
  }
  const declared = typeof jwk?.alg === 'string' ? jwk.alg : undefined;
  if (declared !== undefined && !algs.includes(declared)) {
    throw new Invalid(
      `names ${file}, whose "alg" ${declared} does not fit its ${type} key: use one of ${algs.join(', ')}`,
    );
  }
  const kid = kidOverride ?? (typeof jwk?.kid === 'string' && jwk.kid !== '' ? jwk.kid : thumbprint(key));
  return { key, alg: declared ?? algs[0]!, kid };
}

function parseJwk(text: string, file: string): JsonWebKey {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as JsonWebKey;
  } catch {
    // reported below
  }
  throw new Invalid(`names ${file}, which is not a valid JWK (a JSON object with kty, d, …)`);
}

/** RFC 7638: SHA-256 over the public key's required members, in lexicographic order. */
function thumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
