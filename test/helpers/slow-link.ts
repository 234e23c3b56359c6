/**
 * A slow network link to a TCP server (a store on the far side of a congested network): every chunk,
 * in each direction, is held `delayMs` before it is passed on, in order. Delay 0 passes bytes at once.
 *
 *   const link = await startSlowLink(redis.port);   // REDIS_URL: link.url
 *   link.setDelay(500);                              // each command's round trip now takes ~1 s
 */
import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SlowLink {
  url: string;
  port: number;
  setDelay(ms: number): void;
  stop(): Promise<void>;
}

export async function startSlowLink(targetPort: number): Promise<SlowLink> {
  let delayMs = 0;
  const sockets = new Set<Socket>();

  /** Copies `from` to `to`, each chunk no earlier than delayMs after it arrived and never before the previous. */
  const pipeSlowly = (from: Socket, to: Socket): void => {
    let lastDue = 0;
    let pending = 0;
    from.on('data', (chunk: Buffer) => {
      const due = Math.max(Date.now() + delayMs, lastDue);
      lastDue = due;
      if (pending === 0 && due <= Date.now()) {
        to.write(chunk);
        return;
      }
      pending += 1;
      setTimeout(() => {
        pending -= 1;
        to.write(chunk);
      }, due - Date.now());
    });
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, lastDue - Date.now())));
  };

  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    pipeSlowly(client, upstream);
    pipeSlowly(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    setDelay: (ms: number) => {
      delayMs = ms;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
