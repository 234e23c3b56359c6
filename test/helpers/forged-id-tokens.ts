/**
 * An attacker's ID tokens: each takes the genuine token the IdP just issued (valid iss, aud, nonce,
 * times) and returns one with the same claims that the gateway must refuse.
 */
import { randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export type Forge = (genuine: string) => Promise<string>;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Like LemonLDAP::NG: the IdP's metadata lists `none` (and HS256) among its ID-token algorithms. */
export function advertiseWeakAlgs(path: string, body: Record<string, unknown>): Record<string, unknown> {
  if (path !== '/.well-known/openid-configuration') return body;
  const listed = body.id_token_signing_alg_values_supported;
  const algs = Array.isArray(listed) ? (listed as string[]) : [];
  return { ...body, id_token_signing_alg_values_supported: [...new Set([...algs, 'none', 'HS256'])] };
}

export function algNone(genuine: string, claims: JWTPayload = decodeJwt(genuine)): Promise<string> {
  return Promise.resolve(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`);
}

export function garbageSignature(genuine: string): Promise<string> {
  const [header, payload] = genuine.split('.');
  return Promise.resolve(`${header}.${payload}.${randomBytes(256).toString('base64url')}`);
}

/** Signed with a fresh RSA key; `kid` 'same' reuses the IdP's own kid, anything else names that kid. */
export async function foreignKey(genuine: string, kid: string, claims: JWTPayload = decodeJwt(genuine)) {
  const { privateKey } = await generateKeyPair('RS256');
  const header = kid === 'same' ? decodeProtectedHeader(genuine).kid : kid;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', ...(header ? { kid: header } : {}) })
    .sign(privateKey);
}

/** HS256 with the client secret: anyone holding the secret (every gateway instance, a leak) could mint it. */
export function hmacWithSecret(genuine: string, secret: string): Promise<string> {
  return new SignJWT(decodeJwt(genuine))
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}
