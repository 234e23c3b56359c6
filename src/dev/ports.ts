import type { Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { DemoSettingError } from './settings.js';

/** The one line the demo prints when a port is taken (then it exits 1). */
export function portTakenMessage(host: string, port: number, variable: string): string {
  return `port ${port} on ${host} is already in use (${variable}): stop what is using it, or set ${variable} to a free port`;
}

/** Listens, turning "address in use" (and a refused bind) into the demo's one-line error. */
export function listen(
  server: Pick<Server, 'listen' | 'once' | 'off'>,
  host: string,
  port: number,
  variable: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new DemoSettingError(portTakenMessage(host, port, variable)));
      else if (err.code === 'EACCES')
        reject(
          new DemoSettingError(
            `port ${port} on ${host} needs privileges (${variable}): use a port above 1023`,
          ),
        );
      else if (err.code === 'EADDRNOTAVAIL')
        reject(
          new DemoSettingError(
            `cannot bind ${host} (DEMO_HOST): use an address of this machine, e.g. 127.0.0.1`,
          ),
        );
      else reject(err);
    };
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Fails with the one-line message when (host, port) cannot be bound right now. */
export async function assertPortFree(host: string, port: number, variable: string): Promise<void> {
  const probe = createServer();
  await listen(probe, host, port, variable);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/**
 * A port that was free a moment ago on `host` (listen on 0, read the port, close). Another process may
 * take it before the caller binds it, so callers that can listen on 0 themselves should; callers that
 * cannot (redis-server) retry on EADDRINUSE. The demo and the tests share this one.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer();
  await listen(probe, host, 0, 'port');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Closes an HTTP server together with its open (keep-alive) connections: the demo stops at once. */
export function closeNow(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
