import { createServer, type AddressInfo } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1: listen on port 0, read the port the
 * kernel picked, close. Another process may still take it before the caller binds it, so
 * callers that can should listen on port 0 themselves (the IdP helper does); callers that
 * cannot (redis-server) retry on EADDRINUSE.
 */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as AddressInfo;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
