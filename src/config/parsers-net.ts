/** Pure parsers for network-shaped values: URLs, host:port lists and Express's trust proxy. */
import { isIP } from 'node:net';

import { Invalid } from './invalid.js';
import { show, toList } from './parsers.js';
import type { HostPort } from './types.js';

export function parseUrl(text: string, expect: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new Invalid(`must be ${expect} (got ${show(text)})`);
  }
}

/** An absolute http(s) URL without query, fragment or credentials. */
export function parseHttpUrl(text: string): URL {
  const url = parseUrl(text, 'an absolute http:// or https:// URL');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Invalid(`must be an http:// or https:// URL (got ${show(text)})`);
  }
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(text)) {
    throw new Invalid(`must not have a query or fragment (got ${show(text)})`);
  }
  if (url.username !== '' || url.password !== '')
    throw new Invalid('must not contain a user name or password');
  return url;
}

/** Origin plus path without trailing slash: the form proxy targets are stored in. */
export function parseTarget(text: string): string {
  const url = parseHttpUrl(text);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** BFF_PUBLIC_URL: an http(s) origin, no path. */
export function parseOrigin(text: string): URL {
  const url = parseHttpUrl(text);
  if (url.pathname !== '/') {
    throw new Invalid(`must be an origin only, without a path (got ${show(text)}): the gateway serves at /`);
  }
  return url;
}

/** REDIS_URL: redis:// or rediss:// with a host. The URL may hold a password: never echoed. */
export function parseRedisUrl(text: string): string {
  const url = parseUrl(text, 'a redis:// or rediss:// URL (e.g. redis://localhost:6379)');
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Invalid(`must start with redis:// or rediss:// (got ${url.protocol}//…)`);
  }
  if (url.hostname === '') throw new Invalid('must name a host (e.g. redis://localhost:6379)');
  return text;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && host === '::1';
}

export function parseHostPort(entry: string): HostPort {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:[\]/\s]+):(\d+)$/.exec(entry);
  const [, host, port] = match ?? [];
  const bracketed = entry.startsWith('[');
  if (host === undefined || port === undefined || (bracketed && isIP(host) !== 6)) {
    throw new Invalid(`has ${show(entry)}, expected host:port (IPv6 as [::1]:7000)`);
  }
  const n = Number(port);
  if (n < 1 || n > 65535) throw new Invalid(`has ${show(entry)}, whose port is not 1-65535`);
  return { host, port: n };
}

/** REDIS_CLUSTER_NODES / REDIS_SENTINELS: a list or a comma/space-separated string. */
export function parseHostPorts(value: string | readonly string[]): HostPort[] {
  const entries = toList(value, /[\s,]+/);
  if (entries.length === 0) throw new Invalid('must list at least one host:port');
  return entries.map(parseHostPort);
}

/** proxy-addr's named ranges, an IP, or IP/prefix-or-netmask: checked here so Express cannot throw later. */
function isTrustEntry(entry: string): boolean {
  if (entry === 'loopback' || entry === 'linklocal' || entry === 'uniquelocal') return true;
  const [address = '', range, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return isIP(range) === family;
}

/** TRUST_PROXY: true, false, a hop count, or addresses (joined by commas, as Express takes them). */
export function parseTrustProxy(
  value: string | number | boolean | readonly string[],
): boolean | number | string {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Invalid(`must be a hop count of 0 or more (got ${value})`);
    return value;
  }
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true' || lower === 'false') return lower === 'true';
    if (/^\d+$/.test(value)) return Number(value);
  }
  const entries = toList(value, /,/);
  const bad = entries.find((entry) => !isTrustEntry(entry));
  if (entries.length === 0 || bad !== undefined) {
    throw new Invalid(
      `must be true, false, a hop count, or comma-separated loopback/linklocal/uniquelocal, IPs and CIDRs (got ${show(bad ?? value)})`,
    );
  }
  return entries.join(',');
}
