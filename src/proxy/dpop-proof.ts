import { createHash, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { RouteConfig } from '../config/types.js';
import { BoundedCache } from '../session/records/bounded-cache.js';
import { dpopJwk, dpopPrivateKey } from '../session/records/dpop-key.js';
import type { LoadedSession } from '../session/records/session-records.js';

/** Imported keys kept (one per active session): importing costs more than the signature it serves. */
const MAX_KEYS = 10_000;
/** Upstream origins are few (one per route target); a bound against a misbehaving one all the same. */
const MAX_NONCES = 256;

/** One session's key, imported once: the signing key and the proof's encoded JOSE header. */
interface Signer {
  key: KeyObject;
  /** base64url of `{"typ":"dpop+jwt","alg":"ES256","jwk":{…public…}}` + '.', the same for every proof. */
  headerDot: string;
  /** The last access token and its `ath`, so a steady session hashes its token once. */
  token: string;
  ath: string;
}

/** What the forwarder needs to prove possession for one request: the key and the token's hash. */
export interface DpopBinding {
  proofs: DpopProofs;
  signer: Signer;
  /** This request's token hash (the signer's may move on to another token meanwhile). */
  ath: string;
}

/**
 * RFC 9449 proofs for upstream requests (`Authorization: DPoP <token>` plus a `DPoP` header): a fresh
 * ES256-signed JWT per request and WebSocket handshake, with `htm`, `htu` (the upstream URL without
 * query), `ath` (SHA-256 of the token), `iat`, a random `jti` and the upstream origin's latest
 * `DPoP-Nonce`, if it has sent one. The per-request cost is the signature (node:crypto, synchronous,
 * no WebCrypto promise); keys are imported once per session and kept in a bounded cache.
 */
export class DpopProofs {
  private readonly signers = new BoundedCache<string, Signer>(MAX_KEYS);
  private readonly nonces = new Map<string, string>();

  /** The binding of `token` to `key` (the session's or the gateway's). */
  bind(key: string, token: string): DpopBinding {
    let signer = this.signers.get(key);
    if (signer === undefined) {
      signer = importSigner(key);
      this.signers.set(key, signer);
    }
    if (signer.token !== token) {
      signer.ath = createHash('sha256').update(token).digest('base64url');
      signer.token = token;
    }
    return { proofs: this, signer, ath: signer.ath };
  }

  /** A fresh proof for `htm` on `origin` + `path` (the query, if any, is left out of `htu`). */
  proof(binding: DpopBinding, htm: string, origin: string, path: string): string {
    const query = path.indexOf('?');
    const htu = origin + (query === -1 ? path : path.slice(0, query));
    const { signer, ath } = binding;
    const nonce = this.nonces.get(origin);
    const payload = JSON.stringify({
      jti: randomUUID(),
      htm,
      htu,
      iat: Math.floor(Date.now() / 1000),
      ath,
      ...(nonce !== undefined ? { nonce } : {}),
    });
    const input = signer.headerDot + Buffer.from(payload).toString('base64url');
    const signature = sign('sha256', Buffer.from(input), { key: signer.key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /** Remembers the nonce an upstream origin sent (`DPoP-Nonce`); the next proofs to it carry it. */
  learnNonce(origin: string, nonce: string): void {
    if (this.nonces.get(origin) === nonce) return;
    if (this.nonces.size >= MAX_NONCES && !this.nonces.has(origin)) this.nonces.clear();
    this.nonces.set(origin, nonce);
  }
}

function importSigner(stored: string): Signer {
  const key = dpopPrivateKey(stored);
  const { d: _private, ...jwk } = dpopJwk(stored, key);
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk };
  return {
    key,
    headerDot: `${Buffer.from(JSON.stringify(header)).toString('base64url')}.`,
    token: '',
    ath: '',
  };
}

/** `DPoP` scheme with `error="use_dpop_nonce"` in a `WWW-Authenticate` value (RFC 9449 §9). */
export function isUseDpopNonce(wwwAuthenticate: string | undefined): boolean {
  return (
    wwwAuthenticate !== undefined &&
    /(^|[\s,])dpop(\s|$)/i.test(wwwAuthenticate) &&
    /error\s*=\s*"?use_dpop_nonce"?/i.test(wwwAuthenticate)
  );
}

/**
 * Which requests carry DPoP (OIDC_DPOP only; without it this object does not exist): the user's
 * tokens when the IdP issued them as DPoP-bound (`token_type` DPoP) to the session's key, and
 * client-credentials tokens bound to the gateway's key. A Bearer token (an IdP that ignored the proof,
 * a session from before OIDC_DPOP) stays Bearer.
 */
export class UpstreamDpop {
  constructor(
    private readonly proofs: DpopProofs,
    private readonly gatewayKey: string,
    private readonly clientTokenBound: (token: string) => boolean,
  ) {}

  binding(route: RouteConfig, session: LoadedSession | undefined, token: string): DpopBinding | undefined {
    if (route.token === 'client') {
      return this.clientTokenBound(token) ? this.proofs.bind(this.gatewayKey, token) : undefined;
    }
    const record = session?.record;
    if (record?.dpopKey === undefined || record.tokens.tokenType.toLowerCase() !== 'dpop') return undefined;
    return this.proofs.bind(record.dpopKey, token);
  }
}
