/** The dev IdP's provider events as the demo's console lines (src/dev/idp.ts). */
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { DemoLog } from './log.js';

export function logEvents(provider: Provider, log: DemoLog): void {
  const accountOf = (ctx: KoaContextWithOIDC): string | undefined => {
    const entities = ctx.oidc?.entities as { Account?: { accountId?: string } } | undefined;
    return entities?.Account?.accountId;
  };
  provider.on('grant.success', (ctx) => {
    const grantType = ctx.oidc?.params?.grant_type;
    log.info(grantType === 'refresh_token' ? 'tokens refreshed (refresh token rotated)' : 'tokens issued', {
      grant: grantType,
      sub: accountOf(ctx),
      client_id: ctx.oidc?.client?.clientId,
    });
  });
  provider.on('grant.error', (ctx, err) => {
    log.warn('token request refused', {
      grant: ctx.oidc?.params?.grant_type,
      error: err.error ?? err.message,
      description: err.error_description,
    });
  });
  provider.on('authorization.error', (...args: unknown[]) => {
    const err = args[1] as { error?: string; error_description?: string; message?: string } | undefined;
    log.warn('authorization request refused', {
      error: err?.error ?? err?.message,
      description: err?.error_description,
    });
  });
  provider.on('end_session.success', () => log.info('signed out at the IdP (RP-initiated logout)'));
  provider.on('backchannel.success', (_ctx, client, accountId) => {
    log.info('back-channel logout delivered', { client_id: client.clientId, sub: accountId });
  });
  provider.on('backchannel.error', (_ctx, err, client, accountId) => {
    log.warn('back-channel logout not delivered', {
      client_id: client.clientId,
      sub: accountId,
      error: err.message,
      to: (client as { backchannelLogoutUri?: string }).backchannelLogoutUri,
    });
  });
  provider.on('server_error', (_ctx, err) => log.error('IdP error', { error: err.message }));
}
