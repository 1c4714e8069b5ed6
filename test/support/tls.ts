// A throwaway self-signed certificate for 127.0.0.1 and an https server on it,
// for what a test must serve over https (oidc-provider fetches client ID
// metadata documents only over https).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface SelfSigned {
  /** The certificate's PEM file: give it to a child process as NODE_EXTRA_CA_CERTS. */
  certFile: string;
  keyFile: string;
}

/** A P-256 certificate for localhost and 127.0.0.1, valid one day, written into `dir`. */
export function selfSignedCertificate(dir: string): SelfSigned {
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}

export interface JsonServer {
  /** https://127.0.0.1:<port> */
  origin: string;
  /** Serves `body` as JSON at `pathname`; every other path is a 404. */
  serve(pathname: string, body: unknown): void;
  /** The paths asked for so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startJsonServer(tls: SelfSigned): Promise<JsonServer> {
  const documents = new Map<string, string>();
  const requests: string[] = [];
  const server: Server = createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
    const pathname = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    requests.push(pathname);
    const body = documents.get(pathname);
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    serve: (pathname, body) => void documents.set(pathname, JSON.stringify(body)),
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
