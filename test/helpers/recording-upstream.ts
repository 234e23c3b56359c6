/**
 * An upstream for the data-plane attack and rule tests: a keep-alive `node:http` server that logs
 * every request it PARSES, per TCP connection, the moment its head arrives (so a smuggled request
 * that never completes is still seen), with its bearer token and the body as it streams in.
 *
 * Paths (any prefix, so every route's target reaches them; `/v1/notes` and `/pub/notes` are one store):
 *   POST  …/notes           stores the raw body, chunk by chunk as it arrives (a capture shows even
 *                           while the smuggled request still waits for the rest of its body)
 *   GET   …/notes           every stored note, as a JSON array of strings
 *   …/respond?h=<base64url JSON [[name, value], …]>&status=&body=&trailer=
 *                           answers with exactly these response headers
 *   …/hang                  never answers (the log entry's `closed` says when the gateway gave up)
 *   …/sse?after=<ms>        one event at once, a second one `after` ms later, then the end
 *   …/die-mid-body          promises 1,000,000 bytes, sends 64 KiB, resets the connection
 *   anything else           JSON: what was received ({ seq, conn, method, url, bearer, body })
 * WebSocket upgrades: the handshake is logged in `upgrades`; paths containing `refuse` get a 403.
 */
import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface LoggedRequest {
  /** Order of arrival over all connections, from 1. */
  seq: number;
  /** The TCP connection it came on, from 1, and its place on that connection, from 1. */
  conn: number;
  connSeq: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /** The token of `Authorization: Bearer …`, or undefined. */
  bearer: string | undefined;
  /** Grows while the body streams in. */
  body: Buffer;
  /** The whole body arrived. */
  complete: boolean;
  /** Resolves when the exchange is over: answered, or its connection closed by the gateway. */
  closed: Promise<void>;
  /** The gateway closed the request before the upstream answered. */
  abandoned: boolean;
}

export interface LoggedUpgrade {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface RecordingUpstream {
  url: string;
  port: number;
  log: LoggedRequest[];
  upgrades: LoggedUpgrade[];
  /** Every stored note so far (also the incomplete ones), as text. */
  notes(): string[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Resolves with the first logged request (already there or coming) that `match` accepts. */
  waitFor(match: (r: LoggedRequest) => boolean): Promise<LoggedRequest>;
  /** Resolves once any stored note contains `text`. */
  waitForNote(text: string): Promise<void>;
  /** Forgets the log, the upgrades and the notes (connections stay open). */
  reset(): void;
  stop(): Promise<void>;
}

/** `…/respond?h=` value for these response header lines. */
export function respondWith(headers: Array<[string, string]>, extra: Record<string, string> = {}): string {
  const h = Buffer.from(JSON.stringify(headers)).toString('base64url');
  return `respond?${new URLSearchParams({ h, ...extra }).toString()}`;
}

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const log: LoggedRequest[] = [];
  const upgrades: LoggedUpgrade[] = [];
  const notes: Array<{ data: Buffer }> = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const connIds = new WeakMap<Socket, { id: number; count: number }>();
  let connections = 0;
  let seq = 0;

  const server: Server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const conn = connIds.get(req.socket)!;
    conn.count += 1;
    const authorization = req.headers.authorization;
    const entry: LoggedRequest = {
      seq: ++seq,
      conn: conn.id,
      connSeq: conn.count,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bearer: authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined,
      body: Buffer.alloc(0),
      complete: false,
      closed: new Promise<void>((resolve) => res.once('close', () => resolve())),
      abandoned: false,
    };
    log.push(entry);
    events.emit('request', entry);
    res.once('close', () => {
      if (!res.writableFinished) entry.abandoned = true;
    });

    const url = new URL(req.url ?? '/', 'http://upstream');
    const leaf = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
    const note: { data: Buffer } | undefined =
      req.method === 'POST' && leaf === 'notes' ? { data: Buffer.alloc(0) } : undefined;
    if (note) notes.push(note);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      entry.body = Buffer.concat(chunks);
      if (note) {
        // The tail of what came before, so a text split across two chunks is still found.
        const before = note.data.subarray(Math.max(0, note.data.length - 1024));
        note.data = entry.body;
        events.emit('note', Buffer.concat([before, chunk]).toString('latin1'));
      }
    });
    req.on('end', () => {
      entry.complete = true;
      answer(req, res, url, leaf, entry);
    });
  });

  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    leaf: string,
    entry: LoggedRequest,
  ): void {
    if (leaf === 'notes') {
      res.setHeader('content-type', 'application/json');
      res.end(
        req.method === 'POST' ? '{"stored":true}' : JSON.stringify(notes.map((n) => n.data.toString())),
      );
      return;
    }
    if (leaf === 'respond') {
      const lines = JSON.parse(Buffer.from(url.searchParams.get('h') ?? 'W10', 'base64url').toString()) as [
        string,
        string,
      ][];
      res.statusCode = Number(url.searchParams.get('status') ?? 200);
      const grouped = new Map<string, string[]>();
      for (const [name, value] of lines) grouped.set(name, [...(grouped.get(name) ?? []), value]);
      for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
      const trailer = url.searchParams.get('trailer');
      if (trailer) res.addTrailers({ [trailer]: 'trailer-value' });
      res.end(url.searchParams.get('body') ?? 'respond-body');
      return;
    }
    if (leaf === 'hang') return;
    if (leaf === 'sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      const timer = setTimeout(() => res.end('data: second\n\n'), Number(url.searchParams.get('after') ?? 0));
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (leaf === 'die-mid-body') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1_000_000 });
      res.write(Buffer.alloc(64 * 1024, 1), () => req.socket.resetAndDestroy());
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        seq: entry.seq,
        conn: entry.conn,
        method: entry.method,
        url: entry.url,
        bearer: entry.bearer,
        body: entry.body.toString(),
      }),
    );
  }

  server.on('connection', (s: Socket) => {
    connIds.set(s, { id: ++connections, count: 0 });
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, headBytes: Buffer) => {
    upgrades.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    });
    if ((req.url ?? '').includes('refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\nConnection: close\r\n\r\nrefused');
      return;
    }
    wss.handleUpgrade(req, socket, headBytes, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    upgrades,
    notes: () => notes.map((n) => n.data.toString()),
    connections: () => connections,
    waitFor(match) {
      const found = log.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => {
        const listener = (entry: LoggedRequest) => {
          if (!match(entry)) return;
          events.off('request', listener);
          resolve(entry);
        };
        events.on('request', listener);
      });
    },
    waitForNote(text) {
      const has = () => notes.some((n) => n.data.toString('latin1').includes(text));
      if (has()) return Promise.resolve();
      return new Promise((resolve) => {
        const listener = (arrived: string) => {
          if (!arrived.includes(text)) return;
          events.off('note', listener);
          resolve();
        };
        events.on('note', listener);
      });
    },
    reset() {
      log.length = 0;
      upgrades.length = 0;
      notes.length = 0;
    },
    async stop() {
      for (const client of wss.clients) client.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
