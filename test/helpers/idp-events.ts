/** The test IdP's record of provider events: counts by grant type, and every event in order. */
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { IdpCounts, IdpEvent } from './idp-types.js';

function inc(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

export function emptyCounts(): IdpCounts {
  return {
    grants: {},
    grantErrors: {},
    revocations: 0,
    introspections: 0,
    userinfo: 0,
    discovery: 0,
    backchannelLogouts: 0,
    backchannelErrors: 0,
  };
}

/** Counts and records the provider's grant, revocation, back-channel logout and error events. */
export function recordEvents(provider: Provider, counts: IdpCounts, events: IdpEvent[]): void {
  const grantTypeOf = (ctx: KoaContextWithOIDC): string => {
    const gt = ctx.oidc?.params?.grant_type;
    return typeof gt === 'string' ? gt : 'unknown';
  };
  provider.on('grant.success', (ctx) => {
    const grantType = grantTypeOf(ctx);
    inc(counts.grants, grantType);
    events.push({ name: 'grant.success', grantType, clientId: ctx.oidc?.client?.clientId });
  });
  provider.on('grant.error', (ctx, err) => {
    const grantType = grantTypeOf(ctx);
    inc(counts.grantErrors, grantType);
    events.push({
      name: 'grant.error',
      grantType,
      error: err.error ?? err.message,
      description: err.error_description,
      clientId: ctx.oidc?.client?.clientId,
    });
  });
  provider.on('grant.revoked', (ctx) => {
    events.push({ name: 'grant.revoked', clientId: ctx.oidc?.client?.clientId });
  });
  provider.on('backchannel.success', (_ctx, client, accountId, sid) => {
    counts.backchannelLogouts += 1;
    events.push({ name: 'backchannel.success', clientId: client.clientId, sub: accountId, sid });
  });
  provider.on('backchannel.error', (_ctx, err, client, accountId, sid) => {
    counts.backchannelErrors += 1;
    events.push({
      name: 'backchannel.error',
      error: err.message,
      clientId: client.clientId,
      sub: accountId,
      sid,
    });
  });
  provider.on('end_session.success', () => {
    events.push({ name: 'end_session.success' });
  });
  provider.on('server_error', (_ctx, err) => {
    events.push({ name: 'server_error', error: err.stack ?? err.message });
  });
}
