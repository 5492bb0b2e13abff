import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server a test or bench runs on a free loopback port, and how to stop it (connections cut at once). */
export interface ServedOnFreePort {
  url: string;
  close(): Promise<void>;
}

/** Listens on a free loopback port and gives the `/graphql` URL there. */
export async function serveOnFreePort(server: Server): Promise<ServedOnFreePort> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
