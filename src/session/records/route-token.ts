import type { Vault } from '../vault.js';

/**
 * A route's own access token for one session (an `audience` or `exchange` route: contract "Tokens per
 * API"), stored sealed beside the session (StoreKeys.routeToken, same hash slot) and bound to both the
 * session id and the token's id, so that a value moved to another key or session never opens.
 */
export interface RouteToken {
  accessToken: string;
  tokenType: string;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  accessTokenIssuedAt: number;
}

const PURPOSE = 'route-token';

export function sealRouteToken(vault: Vault, sid: string, tokenId: string, token: RouteToken): Buffer {
  return vault.sealBytes(Buffer.from(JSON.stringify(token), 'utf8'), sid, `${PURPOSE} ${tokenId}`);
}

/** Undefined for anything sealRouteToken did not write for this session and token id. */
export function openRouteToken(
  vault: Vault,
  sid: string,
  tokenId: string,
  stored: Buffer,
): RouteToken | undefined {
  const plain = vault.openBytes(stored, sid, `${PURPOSE} ${tokenId}`);
  if (plain === undefined) return undefined;
  try {
    const token = JSON.parse(plain.toString('utf8')) as Partial<RouteToken>;
    return typeof token.accessToken === 'string' &&
      typeof token.tokenType === 'string' &&
      typeof token.accessTokenExpiresAt === 'number' &&
      typeof token.accessTokenIssuedAt === 'number'
      ? (token as RouteToken)
      : undefined;
  } catch {
    return undefined;
  }
}
