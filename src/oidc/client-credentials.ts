import * as client from 'openid-client';
import { IdpUnavailableError } from '../errors.js';
import { describeError, type Logger } from '../observability/logger.js';
import { needsRefresh } from '../session/records/record.js';
import { describeIdpFailure } from './idp-errors.js';
import type { IdentityProvider } from './provider.js';
import { accessTokenTimes } from './token-response.js';

interface CachedToken {
  accessToken: string;
  accessTokenIssuedAt: number;
  accessTokenExpiresAt: number;
  /** Issued as DPoP-bound (OIDC_DPOP and an IdP that honoured the proof). */
  dpop: boolean;
}

/**
 * Client-credentials tokens for `token: client` routes: one per scope set, cached in memory until it
 * is within the refresh skew of expiry, and at most one request to the IdP at a time per scope set.
 * The tokens never touch the store.
 */
export class ClientCredentials {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly idp: IdentityProvider,
    private readonly refreshSkewMs: number,
    private readonly logger: Logger,
  ) {}

  async token(scopes: string[]): Promise<string> {
    const scope = [...new Set(scopes)].sort().join(' ');
    const cached = this.cache.get(scope);
    if (cached && !needsRefresh(cached, Date.now(), this.refreshSkewMs)) return cached.accessToken;
    let pending = this.inflight.get(scope);
    if (!pending) {
      pending = this.request(scope).finally(() => this.inflight.delete(scope));
      this.inflight.set(scope, pending);
    }
    return (await pending).accessToken;
  }

  /** Whether `accessToken` (one this cache handed out) is DPoP-bound to the gateway's key. */
  isDpopBound(accessToken: string): boolean {
    for (const cached of this.cache.values()) if (cached.accessToken === accessToken) return cached.dpop;
    // Replaced by a newer one in the meantime: it was obtained the same way.
    return this.idp.dpop.enabled;
  }

  private async request(scope: string): Promise<CachedToken> {
    try {
      // OIDC_DPOP: bound to the gateway's own key (made once per process, like this cache).
      const dpop = await this.idp.dpop.forGateway();
      const response = await this.idp.call('client_credentials', () =>
        client.clientCredentialsGrant(this.idp.requireConfiguration(), scope ? { scope } : {}, dpop),
      );
      const token = {
        accessToken: response.access_token,
        dpop: response.token_type?.toLowerCase() === 'dpop',
        ...accessTokenTimes(response.access_token, response.expires_in, Date.now()),
      };
      this.cache.set(scope, token);
      this.logger.info(
        { scope, clientId: this.idp.requireConfiguration().clientMetadata().client_id },
        'client-credentials token obtained',
      );
      return token;
    } catch (err) {
      // `idp` names the IdP's answer (status, `invalid_client` even behind a 401 challenge).
      const idp = await describeIdpFailure(err);
      this.logger.warn({ scope, idp, err: describeError(err) }, 'client-credentials token request failed');
      throw new IdpUnavailableError('A service token could not be obtained from the identity provider.', {
        cause: err,
      });
    }
  }
}
