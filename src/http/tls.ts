// HTTPS for the main listener: reads and checks the TLS_CERT_FILE/TLS_KEY_FILE
// pair, and swaps a renewed pair in on reload without dropping open connections.

import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import { Server as TlsServer, createSecureContext } from 'node:tls';
import { isLoopbackHost, type Config } from '../config/index.js';
import { GatewayError } from '../errors.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** The certificate pair to serve, or undefined for plain HTTP. */
export function tlsFiles(network: Config['network']): TlsFiles | undefined {
  const { tlsCertFile: certFile, tlsKeyFile: keyFile } = network;
  return certFile === undefined || keyFile === undefined ? undefined : { certFile, keyFile };
}

function invalid(variable: 'TLS_CERT_FILE' | 'TLS_KEY_FILE', file: string, problem: string): GatewayError {
  return new GatewayError('CONFIG_INVALID', `${variable} (${JSON.stringify(file)}) ${problem}`, { variable });
}

function readPem(variable: 'TLS_CERT_FILE' | 'TLS_KEY_FILE', file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw invalid(variable, file, `cannot be read (${reason}); check the path and that the gateway's user may read it.`);
  }
}

/**
 * Reads both files and checks that they are PEM and belong together, so a bad pair
 * is reported by the variable to fix instead of as an OpenSSL error at first handshake.
 * Returns the options for an HTTPS server (TLS 1.2 at least).
 */
export function readTlsPair(files: TlsFiles): ServerOptions {
  const cert = readPem('TLS_CERT_FILE', files.certFile);
  const key = readPem('TLS_KEY_FILE', files.keyFile);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw invalid('TLS_CERT_FILE', files.certFile, 'is not a PEM certificate; it should start with -----BEGIN CERTIFICATE-----.');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw invalid('TLS_KEY_FILE', files.keyFile, 'is not an unencrypted PEM private key; it should start with -----BEGIN PRIVATE KEY----- (or an RSA/EC variant) and have no passphrase.');
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw invalid('TLS_KEY_FILE', files.keyFile, `is not the private key of the certificate in TLS_CERT_FILE (${files.certFile}); install the key and certificate that were issued together.`);
  }
  const options: ServerOptions = { cert, key, minVersion: 'TLSv1.2' };
  try {
    // The last word is OpenSSL's: e.g. a key too weak for its security level.
    createSecureContext(options);
  } catch (error) {
    throw invalid('TLS_CERT_FILE', files.certFile, `cannot be used with TLS_KEY_FILE (${error instanceof Error ? error.message : String(error)}).`);
  }
  return options;
}

/** An HTTPS server when TLS options are given, plain HTTP otherwise. */
export function createHttpListener(tls: ServerOptions | undefined, handler: RequestListener): Server {
  return tls === undefined ? createHttpServer(handler) : createHttpsServer(tls, handler);
}

/**
 * Rereads the pair and serves it to new connections; open connections keep theirs.
 * A bad new pair leaves the old one in place and throws what is wrong with it.
 */
export function createTlsReloader(server: Server, files: TlsFiles): () => Promise<void> {
  return async () => {
    if (!(server instanceof TlsServer)) throw new Error('The listener does not serve HTTPS, so there is no certificate to reload.');
    server.setSecureContext(readTlsPair(files));
  };
}

/**
 * The start-up warning for plain HTTP off loopback, or undefined when there is no
 * such risk: TLS is on, the host is loopback, or an HTTPS proxy in front is declared
 * (PUBLIC_URL https:// and TRUST_PROXY set).
 */
export function plainHttpWarning(config: Config): string | undefined {
  if (tlsFiles(config.network) !== undefined || isLoopbackHost(config.http.host)) return undefined;
  if (config.http.publicUrl?.startsWith('https://') && config.network.trustProxy !== false) return undefined;
  return (
    `Serving plain HTTP on HOST ${config.http.host}: bearer tokens cross the network in clear text, where anyone on the path can read and replay them. ` +
    'Set TLS_CERT_FILE and TLS_KEY_FILE to serve HTTPS, or put a TLS-terminating proxy in front and set TRUST_PROXY to it (and PUBLIC_URL to its https:// address).'
  );
}
