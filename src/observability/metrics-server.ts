// The metrics listener: GET /metrics on METRICS_HOST:METRICS_PORT and nothing
// else, apart from the tenant-facing port so scrapes never pass its auth or limits.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError } from '../errors.js';
import type { Logger } from './logger.js';
import type { PrometheusMetrics } from './prometheus-metrics.js';

export const METRICS_PATH = '/metrics';

export interface MetricsListenerOptions {
  host: string;
  /** 0: a free port. */
  port: number;
  metrics: Pick<PrometheusMetrics, 'scrape' | 'contentType'>;
  logger: Logger;
}

export interface MetricsListener {
  /** Where Prometheus scrapes, e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`Not found. This listener serves Prometheus metrics only, at GET ${METRICS_PATH}.\n`);
}

async function answer(req: IncomingMessage, res: ServerResponse, { metrics, logger }: MetricsListenerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound(res);
  let text: string;
  try {
    text = await metrics.scrape();
  } catch (error) {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'metrics scrape failed');
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('The metrics could not be collected; see the gateway log.\n');
    return;
  }
  res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new GatewayError('PORT_IN_USE', `METRICS_PORT ${port} on ${host} is already in use by another program (another gateway on this machine?). Set METRICS_PORT to a free port, e.g. METRICS_PORT=9465, or METRICS_PORT=off.`);
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new GatewayError('CONFIG_INVALID', `METRICS_HOST ${host} is not an address of this machine. Set METRICS_HOST to one of its addresses, e.g. METRICS_HOST=127.0.0.1.`);
  }
  if (error.code === 'EACCES') {
    return new GatewayError('PORT_IN_USE', `METRICS_PORT ${port} needs privileges this process does not have. Use a port above 1023, e.g. METRICS_PORT=9464.`);
  }
  return error;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(listenError(error, host, port));
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

export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    answer(req, res, options).catch((error: unknown) => {
      options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'metrics request failed');
      res.destroy();
    });
  });
  const port = await listen(server, options.host, options.port);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}${METRICS_PATH}`;
  options.logger.info({ url }, 'metrics listening');
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its connection open between scrapes; shutdown need not wait for it.
        server.closeAllConnections();
      }),
  };
}
