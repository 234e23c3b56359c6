import * as client from 'openid-client';
import { BoundedCache } from '../session/records/bounded-cache.js';
import { dpopJwk, newDpopKey } from '../session/records/dpop-key.js';

/** Sessions whose handle is kept between token requests (refreshes are minutes apart: a miss is cheap). */
const MAX_HANDLES = 2_000;
/** The IdP has one or two origins (token, UserInfo); this only bounds what a misbehaving one could make us keep. */
const MAX_NONCES = 100;

/** What openid-client's grants take as their last argument: `{ DPoP }` with OIDC_DPOP, else nothing. */
export type DpopOptions = { DPoP?: client.DPoPHandle };

/**
 * The IdP side of OIDC_DPOP (RFC 9449): openid-client handles for the session keys (code exchange,
 * refresh, audience and exchange grants, UserInfo) and for the gateway's own key (client credentials).
 *
 * openid-client signs the proofs, and answers an IdP's `use_dpop_nonce` with one retry carrying the
 * nonce. Each handle keeps the nonces it has seen by origin; a handle is per key, so the nonces are
 * also shared here across all handles (the IdP's nonce is not per session), and a handle that is
 * created or reused starts with the latest one: most token requests then need no retry at all.
 */
export class IdpDpop {
  private readonly handles = new BoundedCache<string, Promise<client.DPoPHandle>>(MAX_HANDLES);
  /** The latest nonce by origin (the IdP's token and UserInfo endpoints). */
  private readonly nonces = new Map<string, string>();
  /**
   * The gateway's own key (client credentials, and their proofs upstream): one per process, like the
   * in-memory cache of those tokens. Undefined without OIDC_DPOP.
   */
  readonly gatewayKey: string | undefined;

  constructor(
    /** OIDC_DPOP. */
    readonly enabled: boolean,
    private readonly configuration: () => client.Configuration,
  ) {
    this.gatewayKey = enabled ? newDpopKey() : undefined;
  }

  /** A new session key at sign-in, or undefined without OIDC_DPOP. */
  newSessionKey(): string | undefined {
    return this.enabled ? newDpopKey() : undefined;
  }

  /** `{ DPoP }` for a token request on behalf of a session with `key`; `{}` when it has none. */
  async forSession(key: string | undefined): Promise<DpopOptions> {
    if (!this.enabled || key === undefined) return {};
    let handle = this.handles.get(key);
    if (handle === undefined) {
      handle = importKeyPair(key).then((pair) => this.handle(pair));
      // A failed import is not remembered: the next request tries again.
      handle.catch(() => this.handles.delete(key));
      this.handles.set(key, handle);
    }
    return { DPoP: this.seeded(await handle) };
  }

  /** `{ DPoP }` with the gateway's own key (client credentials). */
  forGateway(): Promise<DpopOptions> {
    return this.forSession(this.gatewayKey);
  }

  /**
   * A handle whose learnt nonces are shared with every other handle. `cacheNonce` is oauth4webapi's
   * own (not in its types): without it (another version) each handle still keeps its own nonces, so
   * the cost is one more retry per session, never a failure.
   */
  private handle(pair: client.CryptoKeyPair): client.DPoPHandle {
    const handle = client.getDPoPHandle(this.configuration(), pair) as client.DPoPHandle & NonceCache;
    const cacheNonce = handle.cacheNonce?.bind(handle);
    if (cacheNonce === undefined) return handle;
    handle.cacheNonce = (response: Response, url: URL) => {
      cacheNonce(response, url);
      const nonce = response.headers.get('dpop-nonce');
      if (!nonce || this.nonces.get(url.origin) === nonce) return;
      if (this.nonces.size >= MAX_NONCES && !this.nonces.has(url.origin)) this.nonces.clear();
      this.nonces.set(url.origin, nonce);
    };
    return handle;
  }

  /** The handle, told the latest nonce of each origin seen by any handle. */
  private seeded(handle: client.DPoPHandle & NonceCache): client.DPoPHandle {
    for (const [origin, nonce] of this.nonces) {
      handle.cacheNonce?.(new Response(null, { headers: { 'dpop-nonce': nonce } }), new URL(origin));
    }
    return handle;
  }
}

/** oauth4webapi's handle method that remembers a response's `DPoP-Nonce` for the URL's origin. */
interface NonceCache {
  cacheNonce?: (response: Response, url: URL) => void;
}

/** The session key as WebCrypto keys for openid-client (the public one must be extractable: its JWK goes in each proof). */
export async function importKeyPair(key: string): Promise<client.CryptoKeyPair> {
  const { d, ...jwk } = dpopJwk(key);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const [privateKey, publicKey] = await Promise.all([
    crypto.subtle.importKey('jwk', { ...jwk, d }, algorithm, false, ['sign']),
    crypto.subtle.importKey('jwk', jwk, algorithm, true, ['verify']),
  ]);
  return { privateKey, publicKey };
}
