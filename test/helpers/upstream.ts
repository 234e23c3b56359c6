/**
 * A real upstream API for proxy tests: records what it receives and offers slow, streaming, upload,
 * download, server-sent-event and WebSocket endpoints.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  bodyLength: number;
  bodySha256: string;
  /** The gateway's side of the TCP connection: equal across requests when connections are reused. */
  remotePort: number;
}

export interface Upstream {
  url: string;
  port: number;
  requests: SeenRequest[];
  /** Handshake headers of every accepted WebSocket. */
  websockets: Array<{ url: string; headers: IncomingHttpHeaders }>;
  /**
   * The bearer token of every request seen, in order (`undefined` where there was none); only requests
   * whose path starts with `pathPrefix` when one is given.
   */
  bearerTokens(pathPrefix?: string): Array<string | undefined>;
  /** Lets a pending /sse stream send its last event and end. */
  releaseSse(): void;
  reset(): void;
  stop(): Promise<void>;
}

/** Deterministic bytes for /download, so the test can hash what it expects. */
export function downloadBytes(length: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + 7) & 0xff;
  return buf;
}

export async function startUpstream(): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const websockets: Upstream['websockets'] = [];
  let sseWaiters: Array<() => void> = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on('end', () => {
      const seen: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyLength: length,
        bodySha256: hash.digest('hex'),
        remotePort: req.socket.remotePort ?? 0,
      };
      requests.push(seen);
      const url = new URL(req.url ?? '/', 'http://upstream');
      const path = url.pathname.replace(/^\/v1/, '');
      if (path === '/slow') {
        const timer = setTimeout(() => res.end('slow done'), Number(url.searchParams.get('ms') ?? 1000));
        res.on('close', () => clearTimeout(timer));
        return;
      }
      if (path === '/download') {
        const body = downloadBytes(Number(url.searchParams.get('bytes') ?? 1024));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
        // Several writes, so it really streams.
        for (let i = 0; i < body.length; i += 256 * 1024) res.write(body.subarray(i, i + 256 * 1024));
        res.end();
        return;
      }
      if (path === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: first\n\n');
        sseWaiters.push(() => res.end('data: last\n\n'));
        return;
      }
      if (path === '/reset-mid-body') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1_000_000 });
        res.write(Buffer.alloc(64 * 1024, 1));
        setImmediate(() => req.socket.resetAndDestroy());
        return;
      }
      if (path === '/set-cookie') {
        res.setHeader('set-cookie', [
          'bff-session=evil; Path=/',
          'bff-login=evil; Path=/',
          'upstream-pref=dark; Path=/',
        ]);
        res.end('cookies');
        return;
      }
      if (path === '/status') {
        res.statusCode = Number(url.searchParams.get('code') ?? 200);
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(seen));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').includes('refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\nConnection: close\r\n\r\nrefused');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      websockets.push({ url: req.url ?? '', headers: req.headers });
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    websockets,
    bearerTokens(pathPrefix = '') {
      return requests
        .filter((r) => r.url.startsWith(pathPrefix))
        .map((r) => r.headers.authorization?.replace(/^Bearer /, ''));
    },
    releaseSse() {
      const waiters = sseWaiters;
      sseWaiters = [];
      for (const w of waiters) w();
    },
    reset() {
      requests.length = 0;
      websockets.length = 0;
    },
    async stop() {
      for (const client of wss.clients) client.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
