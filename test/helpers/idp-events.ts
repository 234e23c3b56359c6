/** The test IdP's record of provider events: counts by grant type, and every event in order. */
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { decodeJwt } from 'jose';
import type { IdpCounts, IdpEvent, IssuedToken } from './idp-types.js';

function inc(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

export function emptyCounts(): IdpCounts {
  return {
    grants: {},
    grantsByResource: {},
    dpopGrants: 0,
    grantErrors: {},
    revocations: 0,
    introspections: 0,
    userinfo: 0,
    discovery: 0,
    backchannelLogouts: 0,
    backchannelErrors: 0,
  };
}

/** Zeroes `counts` in place (tests may hold a reference to it or to its records). */
export function zeroCounts(counts: IdpCounts): void {
  for (const record of [counts.grants, counts.grantsByResource, counts.grantErrors])
    for (const k of Object.keys(record)) delete record[k];
  const { grants: _g, grantsByResource: _r, grantErrors: _e, ...numbers } = emptyCounts();
  Object.assign(counts, numbers);
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

/**
 * After the provider answered a token request: records the issued access token (its grant type, the
 * resource asked for, the JWT's `aud` and `cnf.jkt`) and counts it per grant type and resource.
 */
export function recordIssued(ctx: KoaContextWithOIDC, counts: IdpCounts, issued: IssuedToken[]): void {
  const body = ctx.body as Record<string, unknown> | undefined;
  if (ctx.path !== '/token' || ctx.status !== 200 || typeof body?.access_token !== 'string') return;
  const params = ctx.oidc?.params ?? {};
  const grantType = typeof params.grant_type === 'string' ? params.grant_type : 'unknown';
  const asked = params.resource ?? params.audience;
  let claims: Record<string, unknown> = {};
  try {
    claims = decodeJwt(body.access_token);
  } catch {
    // An opaque access token: no claims to read.
  }
  const aud = claims.aud as string | string[] | undefined;
  const cnf = claims.cnf as { jkt?: string } | undefined;
  const tokenType = typeof body.token_type === 'string' ? body.token_type : 'Bearer';
  issued.push({
    grantType,
    requested: typeof asked === 'string' ? asked : undefined,
    audience: aud,
    tokenType,
    jkt: cnf?.jkt,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
    accessToken: body.access_token,
  });
  inc(counts.grantsByResource, `${grantType} ${Array.isArray(aud) ? aud.join(',') : (aud ?? '-')}`);
  if (tokenType === 'DPoP') counts.dpopGrants += 1;
}

/** Issued tokens of this grant type, for this resource (the JWT's `aud`, `-` for opaque) or any. */
export function countGrants(issued: IssuedToken[], grantType: string, resource?: string): number {
  return issued.filter((t) => {
    if (t.grantType !== grantType) return false;
    if (resource === undefined) return true;
    const aud = t.audience ?? '-';
    return Array.isArray(aud) ? aud.includes(resource) : aud === resource;
  }).length;
}
