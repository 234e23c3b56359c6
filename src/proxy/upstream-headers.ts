import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** Hop-by-hop headers (RFC 9110 7.6.1) plus the legacy ones proxies must not forward. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
];

export type TrustFn = (address: string, hop: number) => boolean;

export interface UpstreamHeaderInput {
  /** `Bearer` token to attach, or undefined for none. */
  token: string | undefined;
  /** The gateway's own cookie names: removed from `Cookie`, other cookies pass. */
  gatewayCookies: string[];
  /** Express's compiled `trust proxy` function. */
  trustProxy: TrustFn;
  /** Keep `Upgrade`/`Connection` (a WebSocket handshake). */
  upgrade: boolean;
}

/**
 * The contract's header rules for what the upstream receives, applied to `req.headers` in place
 * (http-proxy copies them when it dispatches):
 * the browser's Authorization is replaced by the gateway's Bearer token (or dropped); the gateway's
 * cookies leave `Cookie`; X-CSRF is dropped; inbound X-Forwarded-* / Forwarded are discarded unless the
 * peer is a trusted proxy (then X-Forwarded-For is appended to), and X-Forwarded-For/-Proto/-Host are set
 * from what the gateway saw; hop-by-hop headers are dropped.
 */
export function applyUpstreamHeaders(req: IncomingMessage, input: UpstreamHeaderInput): void {
  const headers = req.headers;
  const peer = req.socket.remoteAddress ?? '';
  const trusted = peer !== '' && input.trustProxy(peer, 0);
  const forwarded = forwardedValues(req, headers, peer, trusted);

  for (const name of connectionListed(headers)) delete headers[name];
  for (const name of HOP_BY_HOP) {
    if (input.upgrade && (name === 'connection' || name === 'upgrade')) continue;
    delete headers[name];
  }
  if (!trusted) {
    for (const name of Object.keys(headers)) if (name.startsWith('x-forwarded-')) delete headers[name];
    delete headers.forwarded;
  }
  headers['x-forwarded-for'] = forwarded.for;
  headers['x-forwarded-proto'] = forwarded.proto;
  if (forwarded.host) headers['x-forwarded-host'] = forwarded.host;

  delete headers['x-csrf'];
  delete headers.authorization;
  if (input.token !== undefined) headers.authorization = `Bearer ${input.token}`;

  const cookie = withoutCookies(headers.cookie, input.gatewayCookies);
  if (cookie) headers.cookie = cookie;
  else delete headers.cookie;
}

function forwardedValues(req: IncomingMessage, headers: IncomingHttpHeaders, peer: string, trusted: boolean) {
  const inboundFor = first(headers['x-forwarded-for']);
  const ownProto = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  return {
    for: trusted && inboundFor ? `${inboundFor}, ${peer}` : peer,
    proto: trusted ? (first(headers['x-forwarded-proto'])?.split(',')[0]?.trim() ?? ownProto) : ownProto,
    host: trusted
      ? (first(headers['x-forwarded-host'])?.split(',')[0]?.trim() ?? headers.host)
      : headers.host,
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Headers named in `Connection` are hop-by-hop too. */
function connectionListed(headers: IncomingHttpHeaders): string[] {
  const value = first(headers.connection);
  if (!value) return [];
  return value
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '' && n !== 'upgrade' && n !== 'close' && n !== 'keep-alive');
}

export function withoutCookies(header: string | undefined, names: string[]): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter(
      (part) =>
        part !== '' &&
        !names.includes(part.slice(0, part.indexOf('=') === -1 ? part.length : part.indexOf('=')).trim()),
    );
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** Upstream answers must not set or overwrite the gateway's cookies. */
export function dropGatewaySetCookies(headers: IncomingHttpHeaders, names: string[]): void {
  const set = headers['set-cookie'];
  if (!set) return;
  const kept = set.filter((line) => !names.includes(line.slice(0, line.indexOf('=')).trim()));
  if (kept.length > 0) headers['set-cookie'] = kept;
  else delete headers['set-cookie'];
}
