/** The OpenID Provider and client: issuer, client authentication, scopes, ID-token checks, PAR and DPoP. */
import { loadClientPrivateKey } from '../client-key.js';
import { show } from '../parsers.js';
import { isLoopbackHost } from '../parsers-net.js';
import type { Context } from '../reader.js';
import type { ClientAuthMethod, GatewayConfig } from '../types.js';

type Oidc = GatewayConfig['oidc'];

/** The issuer, or undefined (problem recorded); an http issuer needs OIDC_ALLOW_INSECURE_HTTP. */
function loadIssuer(ctx: Context, allowInsecureHttp: boolean | undefined): string | undefined {
  const { r, problems } = ctx;
  const issuer = r.value('OIDC_ISSUER');
  const raw = r.raw('OIDC_ISSUER'); // where it came from, for the message
  // Whether http is allowed cannot be told while OIDC_ALLOW_INSECURE_HTTP is itself bad.
  if (issuer === undefined || raw === undefined || allowInsecureHttp === undefined) return issuer;
  const url = new URL(issuer);
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return issuer;
  if (!allowInsecureHttp) {
    return problems.fail(
      raw.src,
      `must use https (got ${show(issuer)}): use the provider's https issuer, or set OIDC_ALLOW_INSECURE_HTTP=true on a trusted network`,
    );
  }
  ctx.warnings.push(
    `OIDC_ISSUER ${issuer} is plain http (allowed by OIDC_ALLOW_INSECURE_HTTP): tokens travel unencrypted`,
  );
  return issuer;
}

type ClientAuth = Pick<Oidc, 'clientSecret' | 'clientAuth' | 'clientPrivateKey'>;

/** The client authentication method and its secret or key; undefined when something is bad. */
function loadClientAuth(ctx: Context): ClientAuth | undefined {
  const { r, problems } = ctx;
  const secretRaw = r.raw('OIDC_CLIENT_SECRET');
  const authRaw = r.raw('OIDC_CLIENT_AUTH');
  const keyRaw = r.raw('OIDC_CLIENT_PRIVATE_KEY');
  const keyId = r.value('OIDC_CLIENT_KEY_ID');
  const chosen = r.parse('OIDC_CLIENT_AUTH', authRaw);
  const authLabel = authRaw?.src.label ?? 'OIDC_CLIENT_AUTH';
  const clientAuth: ClientAuthMethod | undefined =
    authRaw !== undefined
      ? chosen
      : keyRaw !== undefined
        ? 'private_key_jwt'
        : secretRaw !== undefined
          ? 'client_secret_basic'
          : 'none';
  if (clientAuth === 'private_key_jwt' && keyRaw === undefined && !r.bad('OIDC_CLIENT_PRIVATE_KEY')) {
    problems.add(
      'OIDC_CLIENT_PRIVATE_KEY',
      `OIDC_CLIENT_PRIVATE_KEY is required because ${authLabel} is private_key_jwt: set it to the path of the client's PEM or JWK private key`,
    );
  }
  if (clientAuth?.startsWith('client_secret') && secretRaw === undefined && !r.bad('OIDC_CLIENT_SECRET')) {
    problems.add(
      'OIDC_CLIENT_SECRET',
      `OIDC_CLIENT_SECRET is required because ${authLabel} is set: set the client secret, or unset ${authRaw?.src.variable ?? 'OIDC_CLIENT_AUTH'} for a public client`,
    );
  }
  if (clientAuth === 'none' && !r.bad('OIDC_CLIENT_SECRET') && !r.bad('OIDC_CLIENT_PRIVATE_KEY')) {
    ctx.warnings.push(
      'OIDC_CLIENT_SECRET is not set: acting as a public client (token endpoint auth "none"); PKCE still protects the code, but set the secret if the provider issued one',
    );
  }
  // Parsed whenever set, so a broken key stops start-up even while another method is chosen.
  const clientPrivateKey =
    keyRaw === undefined
      ? undefined
      : problems.at(keyRaw.src, () => loadClientPrivateKey(keyRaw.value, keyId));
  if (clientAuth === undefined || problems.count > 0) return undefined;
  return {
    clientSecret: secretRaw?.value,
    clientAuth,
    clientPrivateKey: clientAuth === 'private_key_jwt' ? clientPrivateKey : undefined,
  };
}

/** The oidc section; undefined when any problem was recorded (the config is refused then anyway). */
export function loadOidc(ctx: Context): Oidc | undefined {
  const { r, problems } = ctx;
  const allowInsecureHttp = r.value('OIDC_ALLOW_INSECURE_HTTP');
  const issuer = loadIssuer(ctx, allowInsecureHttp);
  const clientId = r.value('OIDC_CLIENT_ID');
  const auth = loadClientAuth(ctx);
  const scopes = r.value('OIDC_SCOPES');
  const authParams = r.value('OIDC_AUTH_PARAMS') ?? [];
  const clockToleranceMs = r.value('OIDC_CLOCK_TOLERANCE');
  const idTokenAlgs = r.value('OIDC_ID_TOKEN_ALGS');
  const par = r.value('OIDC_PAR');
  const dpop = r.value('OIDC_DPOP');
  // Every value below is defined once no problem was recorded anywhere (an unset required value is one).
  if (problems.count > 0) return undefined;
  return {
    issuer: issuer!,
    clientId: clientId!,
    ...auth!,
    scopes: scopes!,
    authParams,
    clockToleranceSec: Math.floor(clockToleranceMs! / 1000),
    allowInsecureHttp: allowInsecureHttp!,
    idTokenAlgs,
    par: par!,
    dpop: dpop!,
  };
}
