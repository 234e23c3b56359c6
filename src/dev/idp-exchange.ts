/**
 * RFC 8693 token exchange for the demo's and the tests' IdP: a client trades a user's access token
 * (the subject token, issued by this IdP to that same client) for a JWT access token whose `aud` is
 * another known resource. Refusals: invalid_request (a missing or unsupported parameter),
 * invalid_grant (subject token forged, expired, another client's, DPoP-bound to another key, or refused
 * by the policy), invalid_target (an unknown audience), invalid_scope (no allowed scope left).
 */
import { createPublicKey } from 'node:crypto';
import { type JWK, type JWTPayload, importJWK, jwtVerify } from 'jose';
import { errors, type ClientLike, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import { type ResourceSetup, resourceServerInfo } from './idp-resources.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** What the policy sees; it answers undefined (allowed) or the reason of an invalid_grant refusal. */
export interface ExchangeRequest {
  sub: string;
  clientId: string;
  audience: string;
  scope: string | undefined;
}
export type ExchangePolicy = (request: ExchangeRequest) => string | undefined;

/** The oidc-provider internals the grant uses (the local typings in types/ cover only the helpers' surface). */
interface IssuedToken {
  resourceServer?: unknown;
  tokenType: string;
  expiration: number;
  setThumbprint(prop: 'jkt', thumbprint: string): void;
  save(): Promise<string>;
}
interface OpaqueAccessToken {
  accountId?: string;
  clientId?: string;
  scope?: string;
  jkt?: string;
  isExpired?: boolean;
}
interface ProviderInternals {
  registerGrantType(
    name: string,
    handler: (ctx: KoaContextWithOIDC) => Promise<void>,
    params: string[],
  ): void;
  AccessToken: (new (fields: Record<string, unknown>) => IssuedToken) & {
    find(value: string): Promise<OpaqueAccessToken | undefined>;
  };
  ResourceServer: new (identifier: string, info: unknown) => unknown;
}
interface DpopResult {
  thumbprint: string;
  jti: string;
  iat: number;
}
interface DpopHelpers {
  default(provider: Provider, ctx: KoaContextWithOIDC): Promise<DpopResult | undefined>;
  checkDpopReplay(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    proof: DpopResult,
    clientId: string,
  ): Promise<void>;
}

const InvalidScope = (errors as unknown as Record<string, new (description: string) => Error>)
  .InvalidScope as new (description: string) => Error;

/** oidc-provider's InvalidGrant has a fixed description (the argument is a detail it does not send). */
function invalidGrant(reason: string): Error {
  return Object.assign(new errors.InvalidGrant(reason), { error_description: reason });
}

interface Subject {
  sub: string;
  clientId: string | undefined;
  scope: string | undefined;
  jkt: string | undefined;
}

/** Registers the grant; `signingKey` is the IdP's (private) key, whose public half checks JWT subject tokens. */
export async function registerTokenExchange(
  provider: Provider,
  setup: ResourceSetup,
  signingKey: JWK,
  policy: ExchangePolicy,
): Promise<void> {
  const internals = provider as unknown as ProviderInternals;
  const publicJwk = createPublicKey({
    key: signingKey as import('node:crypto').JsonWebKey,
    format: 'jwk',
  }).export({
    format: 'jwk',
  });
  const verifyKey = await importJWK(publicJwk as JWK, 'RS256');
  // oidc-provider's own DPoP proof check (signature, htm, htu, iat, nonce) and replay cache: the same
  // rules as its built-in grants. Not in its public API, hence the path (oidc-provider has no `exports`).
  const dpop = (await import('oidc-provider/lib/helpers/validate_dpop.js' as string)) as DpopHelpers;

  const subjectOf = async (token: string): Promise<Subject | undefined> => {
    if (token.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(token, verifyKey, { issuer: provider.issuer, typ: 'at+jwt' });
        return fromJwt(payload);
      } catch {
        return undefined;
      }
    }
    const found = await internals.AccessToken.find(token);
    if (!found || found.isExpired || found.accountId === undefined) return undefined;
    return { sub: found.accountId, clientId: found.clientId, scope: found.scope, jkt: found.jkt };
  };

  const handler = async (ctx: KoaContextWithOIDC): Promise<void> => {
    const params = ctx.oidc.params ?? {};
    const client = ctx.oidc.client as ClientLike;
    const str = (name: string): string | undefined => {
      const v = params[name];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const subjectToken = str('subject_token');
    const audience = str('audience');
    if (subjectToken === undefined) throw new errors.InvalidRequest('missing subject_token');
    if (str('subject_token_type') !== ACCESS_TOKEN_TYPE)
      throw new errors.InvalidRequest('unsupported subject_token_type');
    const requested = str('requested_token_type');
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE)
      throw new errors.InvalidRequest('unsupported requested_token_type');
    if (audience === undefined) throw new errors.InvalidRequest('missing audience');
    // Delegation (an actor acting for the subject) is not offered: say so rather than ignore it.
    if (str('actor_token') !== undefined) throw new errors.InvalidRequest('actor_token is not supported');
    if (!setup.indicators.has(audience)) throw new errors.InvalidTarget(`unknown audience ${audience}`);

    const proof = await dpop.default(provider, ctx);
    const subject = await subjectOf(subjectToken);
    if (!subject) throw invalidGrant('subject token invalid or expired');
    if (subject.clientId !== client.clientId)
      throw invalidGrant('subject token was issued to another client');
    // A DPoP-bound subject token is usable only by the holder of its key (else a stolen token buys a
    // fresh bearer token).
    if (subject.jkt !== undefined && proof?.thumbprint !== subject.jkt)
      throw invalidGrant('subject token is DPoP-bound to another key');

    const info = resourceServerInfo(setup, audience, subject.sub);
    const allowed = new Set(info.scope.split(' '));
    const asked = str('scope');
    const scope =
      asked === undefined
        ? info.scope
        : asked
            .split(' ')
            .filter((s) => allowed.has(s))
            .join(' ');
    if (asked !== undefined && scope === '')
      throw new InvalidScope('no requested scope is allowed for this audience');

    const reason = policy({ sub: subject.sub, clientId: client.clientId, audience, scope: asked });
    if (reason !== undefined) throw invalidGrant(reason);

    const token = new internals.AccessToken({
      accountId: subject.sub,
      client,
      gty: 'token-exchange',
      scope: scope || undefined,
    });
    token.resourceServer = new internals.ResourceServer(audience, info);
    if (proof) {
      await dpop.checkDpopReplay(provider, ctx, proof, client.clientId);
      token.setThumbprint('jkt', proof.thumbprint);
    }
    const value = await token.save();
    (ctx as { body: unknown }).body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: token.tokenType,
      expires_in: token.expiration,
      ...(scope ? { scope } : {}),
    };
  };

  internals.registerGrantType(TOKEN_EXCHANGE, handler, [
    'subject_token',
    'subject_token_type',
    'audience',
    'scope',
    'requested_token_type',
    'actor_token',
    'actor_token_type',
  ]);
}

function fromJwt(payload: JWTPayload): Subject | undefined {
  if (typeof payload.sub !== 'string') return undefined;
  const cnf = payload.cnf as { jkt?: unknown } | undefined;
  return {
    sub: payload.sub,
    clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
    scope: typeof payload.scope === 'string' ? payload.scope : undefined,
    jkt: typeof cnf?.jkt === 'string' ? cnf.jkt : undefined,
  };
}
