/**
 * Minimal types for oidc-provider 9 (it ships none, and @types/oidc-provider is not a dependency).
 * Only the surface the test helpers use. If the project adds `@types/oidc-provider` as a
 * devDependency, delete this file.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AdapterPayload {
    [key: string]: unknown;
    grantId?: string;
    uid?: string;
    userCode?: string;
    jti?: string;
    consumed?: unknown;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientLike {
    clientId: string;
    clientAuthMethod: string;
    grantTypeAllowed(type: string): boolean;
  }

  export interface OidcContext {
    params?: Record<string, unknown>;
    client?: ClientLike;
    route?: string;
    entities: Record<string, unknown>;
  }

  export interface KoaContextWithOIDC {
    oidc: OidcContext;
    path: string;
    method: string;
    status: number;
    body: unknown;
    type: string;
    host: string;
    querystring: string;
    /** Koa: a request header, "" when absent. */
    get(field: string): string;
  }

  export interface OidcError extends Error {
    error?: string;
    error_description?: string;
    status?: number;
  }

  export interface Account {
    accountId: string;
    claims(
      use: string,
      scope: string,
      claims: unknown,
      rejected: string[],
    ): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  /** The full configuration object is large; the helpers build it as a plain object literal. */
  export type Configuration = Record<string, unknown>;

  export type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: Middleware): void;
    readonly Interaction: { find(uid: string): Promise<InteractionLike | undefined> };
    on(event: 'grant.success', listener: (ctx: KoaContextWithOIDC) => void): this;
    on(event: 'grant.error', listener: (ctx: KoaContextWithOIDC, err: OidcError) => void): this;
    on(event: 'grant.revoked', listener: (ctx: KoaContextWithOIDC, grantId: string) => void): this;
    on(
      event: 'backchannel.success',
      listener: (ctx: KoaContextWithOIDC, client: ClientLike, accountId: string, sid: string) => void,
    ): this;
    on(
      event: 'backchannel.error',
      listener: (
        ctx: KoaContextWithOIDC,
        err: OidcError,
        client: ClientLike,
        accountId: string,
        sid: string,
      ) => void,
    ): this;
    on(event: 'server_error', listener: (ctx: KoaContextWithOIDC, err: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  type OidcErrorClass = new (description?: string, detail?: string) => OidcError;

  export const errors: {
    InvalidTarget: OidcErrorClass;
    InvalidRequest: OidcErrorClass;
    InvalidGrant: OidcErrorClass;
    AccessDenied: OidcErrorClass;
  };

  /** An interaction (login or consent) in progress, as `provider.Interaction.find(uid)` returns it. */
  export interface InteractionLike {
    params: Record<string, unknown>;
    result?: Record<string, unknown> & { login?: Record<string, unknown> };
    /** Saves it again with its remaining lifetime. */
    persist(): Promise<unknown>;
  }

  /** The interaction policy: prompts (login, consent) and their checks. */
  export namespace interactionPolicy {
    interface CheckContext {
      oidc: {
        params: Record<string, unknown>;
        session?: { acr?: string; accountId?: string };
        result?: { login?: unknown };
      };
    }
    class Check {
      static readonly REQUEST_PROMPT: true;
      static readonly NO_NEED_TO_PROMPT: false;
      constructor(reason: string, description: string, error: string, check: (ctx: CheckContext) => boolean);
    }
    interface Prompt {
      name: string;
      checks: Check[];
    }
    interface Policy extends Array<Prompt> {
      get(name: string): Prompt | undefined;
    }
    function base(): Policy;
  }

  export default Provider;
}
