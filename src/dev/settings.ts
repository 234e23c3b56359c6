/**
 * The demo's settings: defaults, and the DEMO_* environment variables that override them.
 * Shared by `npm run demo` (demo.ts) and the stand-alone entry points (idp-main.ts, api-main.ts)
 * that docker-compose.yml runs; the compose test checks that its ports agree with these defaults.
 */

export const DEMO_DEFAULTS = {
  /** Address every demo listener binds to. */
  host: '127.0.0.1',
  gatewayPort: 3000,
  idpPort: 3001,
  apiPort: 3002,
  /** The gateway's client at the dev IdP. */
  clientId: 'bff-demo',
  /** Its secret when none is given (the stand-alone IdP; `npm run demo` makes a random one). Demo only. */
  clientSecret: 'bff-demo-client-secret',
  /** The demo API's audience: the `resource` (RFC 8707) its access tokens are issued for. */
  apiAudience: 'urn:bff-demo:api',
  /** The second demo API (billing): its own audience, so the gateway gets it its own token (route `audience`). */
  billingAudience: 'urn:bff-demo:billing',
  /** Access-token lifetime in seconds: short, so a refresh is visible in the demo. */
  accessTokenTtl: 60,
} as const;

/** Scopes the dev IdP knows; the demo API's resource scopes are api:read and api:write. */
export const API_SCOPES = ['api:read', 'api:write'] as const;

export interface DemoAccount {
  name: string;
  email: string;
  /** The demo API scopes this user may be granted. */
  apiScopes: readonly string[];
  /** The `groups` claim (profile scope), for route policies; absent: no such claim. */
  groups?: readonly string[];
}

/** The demo's users. The dev IdP accepts any password (its login page is a development page). */
export const DEMO_ACCOUNTS: Readonly<Record<string, DemoAccount>> = {
  alice: {
    name: 'Alice Liddell',
    email: 'alice@example.com',
    apiScopes: ['api:read', 'api:write'],
    groups: ['orders-admins', 'staff'],
  },
  bob: { name: 'Bob Builder', email: 'bob@example.com', apiScopes: ['api:read'], groups: ['staff'] },
};

/** Any other login name signs in as a generic user who may only read. */
export function accountFor(id: string): DemoAccount {
  return DEMO_ACCOUNTS[id] ?? { name: `User ${id}`, email: `${id}@example.com`, apiScopes: ['api:read'] };
}

type Env = Record<string, string | undefined>;

/** A setting the demo cannot use: the message names the variable and the fix. */
export class DemoSettingError extends Error {}

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

export function portFrom(env: Env, name: string, fallback: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new DemoSettingError(`${name} must be a port number 1-65535 (got ${JSON.stringify(raw)})`);
  }
  return n;
}

export function secondsFrom(env: Env, name: string, fallback: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 2 || n > 86_400) {
    throw new DemoSettingError(`${name} must be a number of seconds 2-86400 (got ${JSON.stringify(raw)})`);
  }
  return n;
}

export function urlFrom(env: Env, name: string, fallback: string): string {
  const raw = value(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DemoSettingError(`${name} must be an http(s) URL (got ${JSON.stringify(raw)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DemoSettingError(`${name} must be an http(s) URL (got ${JSON.stringify(raw)})`);
  }
  return raw.replace(/\/+$/, '');
}

export function stringFrom(env: Env, name: string, fallback: string): string {
  return value(env, name) ?? fallback;
}
