// Binds a listener and turns the usual failures (port taken, address not
// ours, privileged port) into one-line errors naming the variables to change.

import type { AddressInfo, Server } from 'node:net';
import { GatewayError } from '../errors.js';

export interface ListenerNames {
  /** The variables that set the address and port, e.g. HOST and PORT. */
  hostVariable: string;
  portVariable: string;
  /** A free-port suggestion, and the extra advice for a taken port. */
  examplePort: number;
  whenTaken?: string;
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number, names: ListenerNames): Error {
  const { hostVariable, portVariable, examplePort } = names;
  if (error.code === 'EADDRINUSE') {
    return new GatewayError('PORT_IN_USE', `${portVariable} ${port} on ${host} is already in use by another program. Stop it, or set ${portVariable} to a free port (e.g. ${portVariable}=${examplePort})${names.whenTaken ?? ''}.`);
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new GatewayError('CONFIG_INVALID', `${hostVariable} ${host} is not an address of this machine. Set ${hostVariable} to one of its addresses, e.g. ${hostVariable}=127.0.0.1.`);
  }
  if (error.code === 'EACCES') {
    return new GatewayError('PORT_IN_USE', `${portVariable} ${port} needs privileges this process does not have. Use a port above 1023, e.g. ${portVariable}=${examplePort}.`);
  }
  return error;
}

/** Listens on host:port; resolves with the bound port (port 0 picks a free one). */
export function listenOn(server: Server, host: string, port: number, names: ListenerNames): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(listenError(error, host, port, names));
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
