// Binds a listener and turns the usual failures (port taken, address not
// ours, privileged port) into one-line errors naming the variables to change,
// with a port that is free at that moment as the suggestion.

import net, { type AddressInfo, type Server } from 'node:net';
import { GatewayError } from '../errors.js';

export interface ListenerNames {
  /** The variables that set the address and port, e.g. HOST and PORT. */
  hostVariable: string;
  portVariable: string;
  /** For a taken port: who else is likely there, e.g. " (another gateway on this machine?)". */
  likelyHolder?: string;
  /** For a taken port: another way out, e.g. ", or METRICS_PORT=off". */
  orElse?: string;
  /** Ports never to suggest (the gateway's other listeners). */
  reserved?: readonly number[];
}

const NEARBY_PORTS = 20;
const FIRST_UNPRIVILEGED_PORT = 1024;

/** Binds a throwaway listener on host:port; resolves with the bound port, or the failure. */
function tryBind(host: string, port: number): Promise<number | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    probe.listen(port, host, () => {
      const bound = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(bound));
    });
  });
}

/**
 * A port on `host` that could be bound just now: the first free one after `near`
 * (so PORT=3003 suggests 3004 when that is free), else one the system picks.
 * Undefined only when nothing can be bound on that host at all.
 */
export async function freePortNear(host: string, near: number, reserved: readonly number[] = []): Promise<number | undefined> {
  const start = near < FIRST_UNPRIVILEGED_PORT ? 8000 + near : near + 1;
  for (let port = start; port < start + NEARBY_PORTS && port <= 65_535; port++) {
    if (reserved.includes(port)) continue;
    const bound = await tryBind(host, port);
    if (typeof bound === 'number') return bound;
  }
  for (let tries = 0; tries < 5; tries++) {
    const bound = await tryBind(host, 0);
    if (typeof bound !== 'number') return undefined;
    if (!reserved.includes(bound)) return bound;
  }
  return undefined;
}

async function listenError(error: NodeJS.ErrnoException, host: string, port: number, names: ListenerNames): Promise<Error> {
  const { hostVariable, portVariable } = names;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new GatewayError('CONFIG_INVALID', `${hostVariable} ${host} is not an address of this machine. Set ${hostVariable} to one of its addresses, e.g. ${hostVariable}=127.0.0.1.`);
  }
  if (error.code !== 'EADDRINUSE' && error.code !== 'EACCES') return error;
  const free = await freePortNear(host, port, [port, ...(names.reserved ?? [])]);
  // Port 0 lets the system pick: the fallback when no port could be bound to name one.
  const suggestion = `${portVariable}=${free ?? 0}`;
  if (error.code === 'EADDRINUSE') {
    return new GatewayError('PORT_IN_USE', `${portVariable} ${port} on ${host} is already in use by another program${names.likelyHolder ?? ''}. Stop it, or set ${portVariable} to a free port (e.g. ${suggestion}, free just now)${names.orElse ?? ''}.`);
  }
  return new GatewayError('PORT_IN_USE', `${portVariable} ${port} needs privileges this process does not have. Use a port above 1023, e.g. ${suggestion}.`);
}

/**
 * Fails as listenOn would if host:port cannot be bound, without keeping it: run before
 * anything slow or stateful (starting the embedded database) so a taken port stops
 * start-up first. Port 0 always binds.
 */
export async function checkPortFree(host: string, port: number, names: ListenerNames): Promise<void> {
  if (port === 0) return;
  const bound = await tryBind(host, port);
  if (typeof bound !== 'number') throw await listenError(bound, host, port, names);
}

/** Listens on host:port; resolves with the bound port (port 0 picks a free one). */
export function listenOn(server: Server, host: string, port: number, names: ListenerNames): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      listenError(error, host, port, names).then(reject, reject);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
