// Free loopback ports for the servers a test starts (gateways, FalkorDB, fake identity providers).

import net from 'node:net';

/** A free TCP port on 127.0.0.1, as the OS hands it out. */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const bound = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}
