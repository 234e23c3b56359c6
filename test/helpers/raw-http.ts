/**
 * HTTP/1.1 from the attacker's side: raw bytes on a `net.Socket`, and a strict little reader for what
 * comes back (status, headers, chunked or Content-Length bodies, or a body that runs to the close).
 * fetch and undici normalise requests (framing, header names, `..`), which is exactly what these tests
 * must not do.
 *
 *   const conn = await RawConnection.open(port);
 *   await conn.write('GET /api/x HTTP/1.1\r\nHost: gw\r\n\r\n');
 *   const res = await conn.response();          // skips 1xx; { method: 'HEAD' } for bodiless answers
 *   expect(await conn.endAndReadRest()).toBe(''); // no second response on this connection
 */
import { Socket } from 'node:net';

export interface RawResponse {
  status: number;
  reason: string;
  /** Header lines as received, in order. */
  rawHeaders: Array<[string, string]>;
  /** Every value of a header (name case-insensitive), in order. */
  values(name: string): string[];
  /** The values of a header joined with `, `, or undefined when absent. */
  header(name: string): string | undefined;
  /** The body as framed (de-chunked); partial when `complete` is false. */
  body: Buffer;
  text: string;
  /** False when the server closed the connection before the framed body was complete. */
  complete: boolean;
  /** 1xx answers that came before this one (`response()` only). */
  interim: RawResponse[];
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export class RawConnection {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    // A reset is a close too: the reader sees `ended` and reports what it got.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.notify();
        resolve();
      }),
    );
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once('error', reject);
      socket.connect(port, host, () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(data, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** The next message from the server, 1xx included. `method`: the request it answers (HEAD has no body). */
  async next(options: { method?: string; timeoutMs?: number } = {}): Promise<RawResponse> {
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    const headEnd = await this.awaitData(() => this.buffer.indexOf(HEADER_END), deadline, 'response head');
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    this.buffer = this.buffer.subarray(headEnd + HEADER_END.length);
    const [statusLine = '', ...lines] = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine)}`);
    const status = Number(m[1]);
    const rawHeaders = lines.map((line): [string, string] => {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed response header line: ${JSON.stringify(line)}`);
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const values = (name: string) =>
      rawHeaders.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    const { body, complete } = await this.readBody(status, values, options.method, deadline);
    return {
      status,
      reason: m[2] ?? '',
      rawHeaders,
      values,
      header: (name) => (values(name).length > 0 ? values(name).join(', ') : undefined),
      body,
      text: body.toString('utf8'),
      complete,
      interim: [],
    };
  }

  /** The next final response; 100 Continue / 102 / 103 before it are collected in `interim`. */
  async response(options: { method?: string; timeoutMs?: number } = {}): Promise<RawResponse> {
    const interim: RawResponse[] = [];
    for (;;) {
      const res = await this.next(options);
      if (res.status >= 200 || res.status === 101) return { ...res, interim };
      interim.push(res);
    }
  }

  /** Everything the server sends until it closes the connection. */
  async readUntilClose(timeoutMs = 5_000): Promise<Buffer> {
    await this.awaitData(() => (this.ended ? 0 : -1), Date.now() + timeoutMs, 'the server to close');
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  /** Half-closes our side (as a client that is done) and returns whatever else the server sent. */
  async endAndReadRest(timeoutMs = 5_000): Promise<string> {
    if (!this.ended) this.socket.end();
    return (await this.readUntilClose(timeoutMs)).toString('latin1');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async readBody(
    status: number,
    values: (name: string) => string[],
    method: string | undefined,
    deadline: number,
  ): Promise<{ body: Buffer; complete: boolean }> {
    if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304)
      return { body: Buffer.alloc(0), complete: true };
    const te = values('transfer-encoding').join(',').toLowerCase();
    if (te !== '') {
      if (te.trim() !== 'chunked') throw new Error(`unexpected response Transfer-Encoding: ${te}`);
      return this.readChunked(deadline);
    }
    const lengths = values('content-length');
    if (lengths.length > 1) throw new Error(`several response Content-Lengths: ${lengths.join(' | ')}`);
    if (lengths.length === 1) {
      const length = Number(lengths[0]);
      if (!Number.isSafeInteger(length) || length < 0) throw new Error(`bad Content-Length ${lengths[0]}`);
      await this.awaitData(() => (this.buffer.length >= length || this.ended ? 0 : -1), deadline, 'body');
      const body = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(body.length);
      return { body, complete: body.length === length };
    }
    // Neither: the body runs until the server closes.
    await this.awaitData(() => (this.ended ? 0 : -1), deadline, 'close-delimited body');
    const body = this.buffer;
    this.buffer = Buffer.alloc(0);
    return { body, complete: true };
  }

  private async readChunked(deadline: number): Promise<{ body: Buffer; complete: boolean }> {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = await this.awaitData(() => this.endOr(this.buffer.indexOf(CRLF)), deadline, 'chunk');
      if (lineEnd === -2) return { body: Buffer.concat(parts), complete: false };
      const sizeText = this.buffer.subarray(0, lineEnd).toString('latin1').split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText))
        throw new Error(`bad chunk size line ${JSON.stringify(sizeText)}`);
      const size = parseInt(sizeText, 16);
      this.buffer = this.buffer.subarray(lineEnd + 2);
      if (size === 0) {
        // Trailer section, up to the empty line.
        for (;;) {
          const end = await this.awaitData(() => this.endOr(this.buffer.indexOf(CRLF)), deadline, 'trailer');
          if (end === -2) return { body: Buffer.concat(parts), complete: false };
          this.buffer = this.buffer.subarray(end + 2);
          if (end === 0) return { body: Buffer.concat(parts), complete: true };
        }
      }
      const have = await this.awaitData(
        () => (this.buffer.length >= size + 2 ? 0 : this.ended ? -2 : -1),
        deadline,
        'chunk data',
      );
      if (have === -2) {
        parts.push(this.buffer.subarray(0, size));
        this.buffer = Buffer.alloc(0);
        return { body: Buffer.concat(parts), complete: false };
      }
      parts.push(this.buffer.subarray(0, size));
      this.buffer = this.buffer.subarray(size + 2);
    }
  }

  /** `index` when found; -2 when it cannot come any more (closed); -1 to keep waiting. */
  private endOr(index: number): number {
    return index >= 0 ? index : this.ended ? -2 : -1;
  }

  /** Waits until `probe` returns something other than -1 (-2 included: the caller handles it). */
  private async awaitData(probe: () => number, deadline: number, what: string): Promise<number> {
    for (;;) {
      const found = probe();
      if (found !== -1) return found;
      if (this.ended)
        throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.preview())}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${what} within the time limit; got ${JSON.stringify(this.preview())}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private notify(): void {
    this.wake?.();
  }

  private preview(): string {
    return this.buffer.subarray(0, 300).toString('latin1');
  }
}

/** One connection, raw bytes, then `count` responses (HEAD answers need `methods`). */
export async function exchange(
  port: number,
  bytes: string | Buffer,
  options: { methods?: string[]; timeoutMs?: number } = {},
): Promise<{ conn: RawConnection; responses: RawResponse[] }> {
  const conn = await RawConnection.open(port);
  await conn.write(bytes);
  const responses: RawResponse[] = [];
  for (const method of options.methods ?? ['GET'])
    responses.push(await conn.response({ method, timeoutMs: options.timeoutMs }));
  return { conn, responses };
}

/** A chunked body in one chunk plus the last-chunk. */
export function chunked(body: string): string {
  return body.length === 0 ? '0\r\n\r\n' : `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
}

/** A request head: `lines` are header lines without CRLF, sent exactly as given. */
export function head(method: string, target: string, lines: string[]): string {
  return `${method} ${target} HTTP/1.1\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
}
