/** For the bench's own servers: report the listening port to the bench, and stop on SIGTERM. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function listenAndAnnounce(
  server: Server,
  onStop: () => Promise<void> = async () => {},
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  process.send?.({ port });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    onStop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** An env variable the bench always sets. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}
