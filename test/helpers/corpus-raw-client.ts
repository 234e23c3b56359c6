/**
 * The adversarial corpus's raw HTTP/1.1 client, which reuses its keep-alive connection while the server
 * keeps it open, and the bytes of one request as written.
 */
import { RawConnection, type RawResponse } from './raw-http.js';

export class RawClient {
  private conn: RawConnection | undefined;
  /** What was sent earlier on the current keep-alive connection (for failure messages). */
  history: string[] = [];

  constructor(private readonly port: number) {}

  /**
   * Sends one complete request (`bytes`) and reads one answer. `fresh`: on a new connection that is
   * half-closed afterwards, and nothing more may come back (no second response from the same bytes).
   * Returns 'closed' when the server closed the connection without an answer.
   */
  async send(
    bytes: string | Buffer,
    options: { method?: string; fresh?: boolean } = {},
  ): Promise<RawResponse | 'closed'> {
    if (options.fresh) {
      const conn = await RawConnection.open(this.port);
      try {
        await conn.write(bytes).catch(() => undefined);
        const res = await conn.response({ method: options.method, timeoutMs: 10_000 }).catch((err: Error) => {
          if (conn.isClosed) return 'closed' as const;
          throw err;
        });
        const rest = await conn.endAndReadRest(10_000);
        if (rest !== '')
          throw new Error(`a second answer on one request's connection: ${rest.slice(0, 200)}`);
        return res;
      } finally {
        conn.destroy();
      }
    }
    if (!this.conn || this.conn.isClosed) {
      this.conn = await RawConnection.open(this.port);
      this.history = [];
    }
    const conn = this.conn;
    this.history.push(bytes.toString('latin1').slice(0, 300));
    await conn.write(bytes).catch(() => undefined);
    try {
      const res = await conn.response({ method: options.method, timeoutMs: 10_000 });
      if ((res.header('connection') ?? '').toLowerCase().includes('close')) this.drop();
      return res;
    } catch (err) {
      this.drop();
      if (conn.isClosed) return 'closed';
      throw err;
    }
  }

  drop(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }
}

/** A request's bytes: request line, `Host`, the header lines as given, then the body. */
export function rawRequest(
  method: string,
  target: string,
  host: string,
  lines: string[],
  body: string | Buffer = '',
): Buffer {
  const head = `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), typeof body === 'string' ? Buffer.from(body) : body]);
}
