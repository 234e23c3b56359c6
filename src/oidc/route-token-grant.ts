import type { RouteExchange } from '../config/types.js';
import { describeError } from '../observability/logger.js';
import type { SessionRecord } from '../session/records/record.js';
import type { RefreshableRecord } from '../session/refresh/grant.js';
import type { RouteGrantResult, RouteTokenGrant } from '../session/refresh/route-token-grant.js';
import { audienceGrant } from './audience-grant.js';
import type { DpopOptions } from './dpop.js';
import type { IdentityProvider } from './provider.js';
import { tokenExchangeGrant } from './token-exchange-grant.js';

/** Both route grants for the session layer, each with the session's DPoP key when OIDC_DPOP is on. */
export class IdpRouteTokenGrant implements RouteTokenGrant {
  constructor(private readonly idp: IdentityProvider) {}

  async audience(
    record: RefreshableRecord,
    audience: string,
    scopes: readonly string[],
  ): Promise<RouteGrantResult> {
    const dpop = await this.dpop(record);
    return 'kind' in dpop ? dpop : audienceGrant(this.idp, record, audience, scopes, dpop);
  }

  async exchange(record: SessionRecord, exchange: RouteExchange): Promise<RouteGrantResult> {
    const dpop = await this.dpop(record);
    return 'kind' in dpop ? dpop : tokenExchangeGrant(this.idp, record, exchange, dpop);
  }

  private async dpop(record: SessionRecord): Promise<DpopOptions | RouteGrantResult> {
    try {
      return await this.idp.dpop.forSession(record.dpopKey);
    } catch (err) {
      // A session key that cannot be imported: nothing was spent; keep the session.
      return { kind: 'transient', cause: err, misconfigured: false, details: { err: describeError(err) } };
    }
  }
}
