import { importJWK } from 'jose';
import * as client from 'openid-client';
import type { GatewayConfig } from '../config/types.js';

/**
 * How the gateway authenticates at the token, revocation and introspection endpoints. Every call
 * through the openid-client Configuration uses it: code exchange, refresh, client credentials,
 * token exchange and revocation.
 */
export async function clientAuthFor(oidc: GatewayConfig['oidc']): Promise<client.ClientAuth> {
  switch (oidc.clientAuth) {
    case 'client_secret_basic':
      return formEncodedBasic(requireSecret(oidc.clientSecret));
    case 'client_secret_post':
      return client.ClientSecretPost(requireSecret(oidc.clientSecret));
    case 'private_key_jwt': {
      const key = oidc.clientPrivateKey;
      if (key === undefined) throw new Error('private_key_jwt without a private key (config loader bug)');
      return privateKeyJwt(key);
    }
    case 'none':
      return client.None();
  }
}

function requireSecret(secret: string | undefined): string {
  if (secret === undefined)
    throw new Error('client secret authentication without a secret (config loader bug)');
  return secret;
}

/** The WHATWG application/x-www-form-urlencoded serializer: leaves letters, digits and `-._*` alone. */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice('v='.length);
}

/**
 * client_secret_basic, encoded with the form serializer instead of openid-client's stricter
 * percent-encoding of `-._~!*'()`: IdPs that decode Basic credentials (RFC 6749 2.3.1) see the same
 * id and secret, and IdPs that do not decode them (LemonLDAP::NG, Glewlwyd) get `bff-gateway`
 * instead of `bff%2Dgateway`.
 */
export function formEncodedBasic(clientSecret: string): client.ClientAuth {
  return (_as, metadata, _body, headers) => {
    const credentials = `${formEncode(metadata.client_id)}:${formEncode(clientSecret)}`;
    headers.set('authorization', `Basic ${Buffer.from(credentials).toString('base64')}`);
  };
}

/**
 * private_key_jwt (RFC 7523): a fresh assertion per request (new `jti`, `exp` 60 s, `aud` the
 * issuer: oauth4webapi builds it), signed with the configured key under its `kid` and `alg`.
 */
async function privateKeyJwt(
  key: NonNullable<GatewayConfig['oidc']['clientPrivateKey']>,
): Promise<client.ClientAuth> {
  const cryptoKey = await importJWK(key.key.export({ format: 'jwk' }), key.alg);
  // Only a symmetric ("oct") JWK imports as bytes; the config loader admits asymmetric keys only.
  if (cryptoKey instanceof Uint8Array) throw new Error('the client private key imported as a secret');
  return client.PrivateKeyJwt(
    { key: cryptoKey, kid: key.kid },
    {
      // oauth4webapi names an Ed25519 key's alg "Ed25519"; keep the configured name (EdDSA by default).
      [client.modifyAssertion]: (header) => {
        header.alg = key.alg;
      },
    },
  );
}
