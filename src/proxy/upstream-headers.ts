import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * The contract's header rules, both directions, as flat `[name, value, ...]` lists (the form
 * `http.request` and `writeHead` take without copying into objects).
 *
 * Framing is the gateway's: `Content-Length`, `Transfer-Encoding` and `Host` are never copied from the
 * browser, they are written by the forwarder from what the parser actually read, so naming them in
 * `Connection` changes nothing.
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus the legacy ones proxies must not forward. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** Headers that let a client steer a framework behind the gateway (method, path or client address). */
const STEERING = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
];

/** Request headers never copied from the browser: replaced by the gateway's own or dropped. */
const REQUEST_DROPPED = new Set([
  ...HOP_BY_HOP,
  ...STEERING,
  'content-length',
  'host',
  // The gateway answered any 100-continue itself; the upstream gets a plain request.
  'expect',
  'authorization',
  // A DPoP proof is the gateway's to make (OIDC_DPOP): a browser's could only collide with it.
  'dpop',
  'cookie',
  'x-csrf',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

const RESPONSE_DROPPED = new Set(HOP_BY_HOP);

export type TrustFn = (address: string, hop: number) => boolean;

export interface RequestHeaderInput {
  /** `host[:port]` of the upstream. */
  upstreamHost: string;
  /** What the parser read: `chunked`, a content length, or no body. */
  framing: Framing;
  /** `Authorization` value to attach (`Bearer …`), or undefined for none. */
  authorization: string | undefined;
  /** The gateway's own cookie names: removed from `Cookie`, other cookies pass. */
  gatewayCookies: readonly string[];
  /** Express's compiled `trust proxy` function. */
  trustProxy: TrustFn;
  /** `BFF_PUBLIC_URL`'s host: `X-Forwarded-Host` unless a trusted proxy says otherwise. */
  publicHost: string;
  /** A WebSocket handshake: `Connection: Upgrade` and `Upgrade: websocket`, exactly. */
  upgrade: boolean;
}

export type Framing = { kind: 'none' } | { kind: 'chunked' } | { kind: 'length'; length: string };

/** The request headers the upstream receives. */
export function upstreamRequestHeaders(req: IncomingMessage, input: RequestHeaderInput): string[] {
  const raw = req.rawHeaders;
  const listed = connectionListed(raw);
  const peer = req.socket.remoteAddress ?? '';
  const trusted = peer !== '' && input.trustProxy(peer, 0);
  const out: string[] = ['Host', input.upstreamHost];
  let inboundFor: string | undefined;
  let inboundProto: string | undefined;
  let inboundHost: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (REQUEST_DROPPED.has(lower)) {
      if (lower === 'cookie') pushCookie(out, value, input.gatewayCookies);
      else if (trusted) {
        if (lower === 'x-forwarded-for') inboundFor = join(inboundFor, value);
        else if (lower === 'x-forwarded-proto') inboundProto ??= firstItem(value);
        else if (lower === 'x-forwarded-host') inboundHost ??= firstItem(value);
        else if (lower === 'forwarded') out.push(name, value);
      }
      continue;
    }
    if (listed?.has(lower)) continue;
    if (!trusted && lower.startsWith('x-forwarded-')) continue;
    out.push(name, value);
  }
  if (input.framing.kind === 'chunked') out.push('Transfer-Encoding', 'chunked');
  else if (input.framing.kind === 'length') out.push('Content-Length', input.framing.length);
  if (input.upgrade) out.push('Connection', 'Upgrade', 'Upgrade', 'websocket');
  if (input.authorization !== undefined) out.push('Authorization', input.authorization);
  const ownProto = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  out.push(
    'X-Forwarded-For',
    trusted && inboundFor ? `${inboundFor}, ${peer}` : peer,
    'X-Forwarded-Proto',
    (trusted && inboundProto) || ownProto,
    'X-Forwarded-Host',
    trusted ? (inboundHost ?? req.headers.host ?? input.publicHost) : input.publicHost,
  );
  return out;
}

export interface ResponseHeaderInput {
  gatewayCookies: readonly string[];
  /** `Cache-Control: private, no-store` when the upstream set none (user and optional routes). */
  privateByDefault: boolean;
  /** `[name, value, ...]` added when the upstream did not set that header itself (security headers). */
  defaults: readonly string[];
}

/** The upstream's answer headers as the browser receives them. */
export function downstreamResponseHeaders(raw: readonly string[], input: ResponseHeaderInput): string[] {
  const listed = connectionListed(raw);
  const out: string[] = [];
  let seen: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (RESPONSE_DROPPED.has(lower)) continue;
    // The upstream's framing is re-done by the gateway's own response writer: keep its length.
    if (listed?.has(lower) && lower !== 'content-length') continue;
    if (lower === 'set-cookie' && isGatewayCookie(value, input.gatewayCookies)) continue;
    (seen ??= new Set()).add(lower);
    out.push(name, value);
  }
  if (input.privateByDefault && !seen?.has('cache-control')) out.push('Cache-Control', 'private, no-store');
  const defaults = input.defaults;
  for (let i = 0; i < defaults.length; i += 2) {
    if (!seen?.has(defaults[i]!.toLowerCase())) out.push(defaults[i]!, defaults[i + 1]!);
  }
  return out;
}

/** The names a `Connection` header lists (lower case), or undefined when there is none. */
function connectionListed(raw: readonly string[]): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    for (const item of raw[i + 1]!.split(',')) {
      const name = item.trim().toLowerCase();
      if (name !== '') (listed ??= new Set()).add(name);
    }
  }
  return listed;
}

function pushCookie(out: string[], header: string, names: readonly string[]): void {
  const kept = withoutCookies(header, names);
  if (kept !== undefined) out.push('Cookie', kept);
}

export function withoutCookies(header: string | undefined, names: readonly string[]): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !names.includes(cookieName(part)));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

function cookieName(pair: string): string {
  const eq = pair.indexOf('=');
  return (eq === -1 ? pair : pair.slice(0, eq)).trim();
}

function isGatewayCookie(setCookie: string, names: readonly string[]): boolean {
  return names.includes(cookieName(setCookie));
}

function firstItem(value: string): string | undefined {
  return value.split(',')[0]?.trim() || undefined;
}

function join(a: string | undefined, b: string): string {
  return a === undefined ? b : `${a}, ${b}`;
}

/** The framing of the browser's request body, from what Node's parser accepted, or undefined to refuse. */
export function requestFraming(req: IncomingMessage): Framing | undefined {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    // Node already refuses TE together with Content-Length; anything but plain `chunked` is refused here.
    return te.trim().toLowerCase() === 'chunked' ? { kind: 'chunked' } : undefined;
  }
  const length = req.headers['content-length'];
  if (length === undefined) return { kind: 'none' };
  return /^\d+$/.test(length) ? { kind: 'length', length } : undefined;
}
