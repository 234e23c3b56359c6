/** Session secrets, the session cookie and lifetimes, and the token encryption keys. */
import { hkdfSync, randomBytes } from 'node:crypto';

import { SECRET_HINT } from '../parsers.js';
import type { Context } from '../reader.js';
import type { GatewayConfig } from '../types.js';

/** HKDF parameters for deriving a token key from a session secret; changing them orphans stored tokens. */
const TOKEN_KEY_HKDF = { hash: 'sha256', salt: 'bff-token-encryption', info: 'v1', length: 32 } as const;

/** The default token key for a session secret (HKDF-SHA256), so one SESSION_SECRET is enough. */
export function deriveTokenKey(secret: string): Buffer {
  const { hash, salt, info, length } = TOKEN_KEY_HKDF;
  return Buffer.from(hkdfSync(hash, secret, salt, info, length));
}

export interface Secrets {
  secrets: string[];
  generated: boolean;
}

/** SESSION_SECRET, or a random one for this process outside production. */
export function loadSecrets(ctx: Context): Secrets | undefined {
  const { r } = ctx;
  const raw = r.raw('SESSION_SECRET');
  if (raw !== undefined) {
    const secrets = r.parse('SESSION_SECRET', raw);
    return secrets === undefined ? undefined : { secrets, generated: false };
  }
  if (r.bad('SESSION_SECRET')) return undefined;
  if (ctx.production) {
    return ctx.problems.add(
      'SESSION_SECRET',
      `SESSION_SECRET is required when NODE_ENV=production: ${SECRET_HINT} (comma-separate several to rotate; the first signs)`,
    );
  }
  ctx.warnings.push(
    'SESSION_SECRET is not set: using a random secret for this process, so sessions do not survive a restart; set SESSION_SECRET (`openssl rand -base64 48`)',
  );
  return { secrets: [randomBytes(32).toString('base64url')], generated: true };
}

/** BFF_COOKIE_NAME against the public URL: __Host-/__Secure- need https, and it is not the login cookie. */
function loadCookieName(ctx: Context, https: boolean, loginCookieName: string): string | undefined {
  const { r, problems } = ctx;
  const raw = r.raw('BFF_COOKIE_NAME');
  if (raw === undefined) return https ? '__Host-bff-session' : 'bff-session';
  const name = r.parse('BFF_COOKIE_NAME', raw);
  if (name === undefined) return undefined;
  const prefix = /^__(host|secure)-/i.exec(name)?.[0];
  if (prefix !== undefined && !https) {
    return problems.fail(
      raw.src,
      `starts with ${prefix}, which browsers accept only over https: use an https BFF_PUBLIC_URL or another name`,
    );
  }
  if (name === loginCookieName)
    return problems.fail(raw.src, `must differ from the login cookie ${loginCookieName}`);
  return name;
}

/** The session section; the cookie checks need the public URL and skip while it is bad. */
export function loadSession(
  ctx: Context,
  publicUrl: URL | undefined,
  secrets: Secrets | undefined,
): GatewayConfig['session'] | undefined {
  const { r } = ctx;
  const idleTimeoutMs = r.value('SESSION_IDLE_TIMEOUT');
  const maxAgeMs = r.value('SESSION_MAX_AGE');
  const sameSite = r.value('COOKIE_SAMESITE');
  if (publicUrl === undefined) return undefined; // bad (reported): the cookie checks cannot be made
  const https = publicUrl.protocol === 'https:';
  const loginCookieName = https ? '__Host-bff-login' : 'bff-login';
  const cookieName = loadCookieName(ctx, https, loginCookieName);
  // Only __Host- keeps a sibling subdomain from planting the cookie (Domain=parent): cookie tossing.
  if (cookieName !== undefined && https && !/^__Host-/i.test(cookieName)) {
    ctx.warnings.push(
      `BFF_COOKIE_NAME ${cookieName} has no __Host- prefix: under https a sibling subdomain can plant (toss) this cookie; use __Host-${cookieName.replace(/^__secure-/i, '')}`,
    );
  }
  if (ctx.problems.count > 0 || secrets === undefined) return undefined;
  return {
    secrets: secrets.secrets,
    secretsGenerated: secrets.generated,
    idleTimeoutMs: idleTimeoutMs!,
    maxAgeMs: maxAgeMs!,
    cookieName: cookieName!,
    loginCookieName,
    sameSite: sameSite!,
    secure: https,
  };
}

/** Token keys: TOKEN_ENCRYPTION_KEY, else one derived from each session secret. */
export function loadTokens(ctx: Context, secrets: Secrets | undefined): GatewayConfig['tokens'] | undefined {
  const { r } = ctx;
  const keys = r.value('TOKEN_ENCRYPTION_KEY');
  const refreshSkewMs = r.value('TOKEN_REFRESH_SKEW');
  const encryptionKeys = keys ?? secrets?.secrets.map(deriveTokenKey);
  if (ctx.problems.count > 0 || encryptionKeys === undefined) return undefined;
  return { encryptionKeys, refreshSkewMs: refreshSkewMs! };
}
