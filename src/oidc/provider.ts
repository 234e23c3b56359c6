import * as client from 'openid-client';
import type { GatewayConfig } from '../config/types.js';
import { IdpUnavailableError } from '../errors.js';
import { describeError, type Logger } from '../observability/logger.js';
import type { IdpOperation, Metrics } from '../observability/metrics.js';
import { clientAuthFor } from './client-auth.js';
import { IdpDpop } from './dpop.js';
import { allowedIdTokenAlgs, IdTokenVerifier } from './id-token.js';
import { annotateIdpRefusal, isTransientIdpError } from './idp-errors.js';

/** Seconds; applies to discovery and every later request to the IdP. */
const IDP_TIMEOUT_SEC = 10;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * The OpenID Provider as the gateway sees it: discovered at start-up with retry and back-off, so the
 * gateway serves /healthz (and /readyz 503) while the IdP is briefly down.
 */
export class IdentityProvider {
  private configuration: client.Configuration | undefined;
  private idTokenVerifier: IdTokenVerifier | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly discovered: Promise<void>;
  private resolveDiscovered!: () => void;
  /** OIDC_DPOP's key handles for every token request (see dpop.ts). */
  readonly dpop: IdpDpop;

  constructor(
    private readonly oidc: GatewayConfig['oidc'],
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.discovered = new Promise((resolve) => (this.resolveDiscovered = resolve));
    this.dpop = new IdpDpop(oidc.dpop, () => this.requireConfiguration());
  }

  /** Starts discovery in the background; `whenReady()` resolves once it succeeded. */
  start(): void {
    void this.attempt(1);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  whenReady(): Promise<void> {
    return this.discovered;
  }

  get ready(): boolean {
    return this.configuration !== undefined;
  }

  /**
   * openid-client's discovered Configuration (not the gateway's config), or 503 idp_unavailable while
   * discovery has not succeeded: a method, so the throw is visible where it is called.
   */
  requireConfiguration(): client.Configuration {
    if (!this.configuration)
      throw new IdpUnavailableError('The identity provider has not been reached yet; try again shortly.');
    return this.configuration;
  }

  /** Verifies every ID token's signature (sign-in and refresh) against the IdP's JWKS. */
  get idTokens(): IdTokenVerifier {
    if (!this.idTokenVerifier)
      throw new IdpUnavailableError('The identity provider has not been reached yet; try again shortly.');
    return this.idTokenVerifier;
  }

  get metadata(): client.ServerMetadata {
    return this.requireConfiguration().serverMetadata();
  }

  /** Every call to the IdP goes through here: timed, and failures counted, by operation. */
  async call<T>(operation: IdpOperation, request: () => Promise<T>): Promise<T> {
    const stop = this.metrics.idpDuration.startTimer({ operation });
    try {
      const result = await request();
      stop({ outcome: 'ok' });
      return result;
    } catch (err) {
      stop({ outcome: isTransientIdpError(err) ? 'unreachable' : 'refused' });
      this.metrics.idpErrors.inc({ operation });
      await annotateIdpRefusal(err);
      throw err;
    }
  }

  private async attempt(n: number): Promise<void> {
    if (this.stopped) return;
    try {
      const configuration = await this.call('discovery', () => this.discover());
      this.idTokenVerifier = this.verifierFor(configuration.serverMetadata());
      this.configuration = configuration;
      this.logger.info({ issuer: this.oidc.issuer, attempts: n }, 'OpenID Provider discovered');
      this.warnAboutMetadata(this.configuration.serverMetadata());
      this.resolveDiscovered();
    } catch (err) {
      const delay = Math.min(RETRY_MIN_MS * 2 ** (n - 1), RETRY_MAX_MS);
      this.logger.warn(
        {
          issuer: this.oidc.issuer,
          ...discoveryFailure(this.oidc.issuer, err),
          attempt: n,
          retryInMs: delay,
          err: describeError(err),
        },
        'OpenID Provider discovery failed; retrying',
      );
      if (!this.stopped) {
        this.retryTimer = setTimeout(() => void this.attempt(n + 1), delay);
        this.retryTimer.unref();
      }
    }
  }

  private async discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret, clockToleranceSec } = this.oidc;
    const metadata: Partial<client.ClientMetadata> = { [client.clockTolerance]: clockToleranceSec };
    if (clientSecret !== undefined) metadata.client_secret = clientSecret;
    // The config loader only lets http:// through for loopback issuers or with OIDC_ALLOW_INSECURE_HTTP.
    const execute = new URL(issuer).protocol === 'http:' ? [client.allowInsecureRequests] : [];
    return client.discovery(new URL(issuer), clientId, metadata, await clientAuthFor(this.oidc), {
      execute,
      timeout: IDP_TIMEOUT_SEC,
    });
  }

  private verifierFor(meta: client.ServerMetadata): IdTokenVerifier {
    const algorithms = allowedIdTokenAlgs(this.oidc.idTokenAlgs, meta.id_token_signing_alg_values_supported);
    if (algorithms.length === 0 || !meta.jwks_uri) {
      this.logger.error(
        {
          issuer: meta.issuer,
          advertised: meta.id_token_signing_alg_values_supported,
          jwksUri: meta.jwks_uri,
        },
        'No usable ID-token signature check: the IdP needs a jwks_uri and an asymmetric algorithm (set OIDC_ID_TOKEN_ALGS); every sign-in will fail',
      );
    }
    return new IdTokenVerifier({
      issuer: meta.issuer,
      clientId: this.oidc.clientId,
      jwksUri: meta.jwks_uri,
      algorithms,
      clockToleranceSec: this.oidc.clockToleranceSec,
    });
  }

  /** One clear warning per missing capability the gateway relies on. */
  private warnAboutMetadata(meta: client.ServerMetadata): void {
    if (!meta.code_challenge_methods_supported?.includes('S256')) {
      this.logger.warn(
        { issuer: meta.issuer },
        'IdP metadata does not list S256 in code_challenge_methods_supported; the gateway sends PKCE S256 anyway. Check that the IdP enforces it.',
      );
    }
    if (!meta.end_session_endpoint) {
      this.logger.warn(
        { issuer: meta.issuer },
        'IdP metadata has no end_session_endpoint; logout ends only the gateway session (logoutUrl is "/").',
      );
    }
    if (this.oidc.par && !meta.pushed_authorization_request_endpoint) {
      this.logger.error(
        { issuer: meta.issuer },
        'OIDC_PAR is true but IdP metadata has no pushed_authorization_request_endpoint; every sign-in will fail (503). Unset OIDC_PAR or enable PAR at the IdP.',
      );
    }
    if (!meta.revocation_endpoint) {
      this.logger.warn(
        { issuer: meta.issuer },
        'IdP metadata has no revocation_endpoint; refresh tokens are not revoked at logout.',
      );
    }
  }
}

/**
 * Where discovery looked and what it found, for its failure line: the document's URL (as openid-client
 * builds it from the issuer), the HTTP status when the IdP answered, and the issuer the document
 * names when it is not the configured one.
 */
function discoveryFailure(
  issuer: string,
  err: unknown,
): { url: string; status?: number; discoveredIssuer?: string } {
  const url = discoveryUrl(issuer);
  if (!(err instanceof client.ClientError)) return { url };
  const cause = err.cause as
    { status?: unknown; body?: { issuer?: unknown }; attribute?: unknown } | undefined;
  if (cause instanceof Response) return { url, status: cause.status };
  if (cause?.attribute === 'issuer' && typeof cause.body?.issuer === 'string')
    return { url, discoveredIssuer: cause.body.issuer };
  return { url };
}

/** OpenID Connect Discovery 1.0 §4: the issuer's path, then `/.well-known/openid-configuration`. */
function discoveryUrl(issuer: string): string {
  const url = new URL(issuer);
  if (url.href.includes('/.well-known/')) return url.href;
  url.pathname = `${url.pathname}/.well-known/openid-configuration`.replace('//', '/');
  return url.href;
}
