// The metrics listener: GET /metrics on METRICS_HOST:METRICS_PORT and nothing
// else, apart from the tenant-facing port so scrapes never pass its auth or
// limits; and the choice, from config.metrics, of what the request path reports to.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import { isGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { NO_METRICS, type GatewayMetrics } from '../observability/metrics.js';
import { createPrometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from '../observability/prometheus-metrics.js';
import { listenOn, type ListenerNames } from './listen.js';

export const METRICS_PATH = '/metrics';

/** How a failure to bind the metrics listener names its variables. */
export const METRICS_LISTENER: ListenerNames = {
  hostVariable: 'METRICS_HOST',
  portVariable: 'METRICS_PORT',
  likelyHolder: ' (another gateway on this machine?)',
  orElse: ', or METRICS_PORT=off',
};

export interface MetricsListenerOptions {
  host: string;
  /** 0: a free port. */
  port: number;
  /** When `port` is taken, listen on a free one instead (METRICS_PORT left at its default) rather than fail. */
  orFreePort?: boolean;
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

export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    answer(req, res, options).catch((error: unknown) => {
      options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'metrics request failed');
      res.destroy();
    });
  });
  let port: number;
  let moved = false;
  try {
    port = await listenOn(server, options.host, options.port, METRICS_LISTENER);
  } catch (error) {
    // Two gateways on one machine, each with the default: the second must still start, and say where it went.
    if (options.orFreePort !== true || options.port === 0 || !isGatewayError(error) || error.code !== 'PORT_IN_USE') throw error;
    port = await listenOn(server, options.host, 0, METRICS_LISTENER);
    moved = true;
  }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}${METRICS_PATH}`;
  if (moved) {
    options.logger.warn(
      { url, defaultPort: options.port },
      `metrics listening on a free port: the default METRICS_PORT ${options.port} is taken (another gateway on this machine?); point Prometheus at ${url}, or set METRICS_PORT to a fixed free port`,
    );
  } else {
    options.logger.info({ url }, 'metrics listening');
  }
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

export type MetricsSources = Pick<PrometheusMetricsOptions, 'database' | 'audit' | 'sessions' | 'inFlight' | 'instanceName' | 'targets'> & { logger: Logger };

export interface GatewayMetricsEndpoint {
  /** What the request path reports to; NO_METRICS when METRICS_PORT=off. */
  metrics: GatewayMetrics;
  /** Starts the scrape listener; undefined when METRICS_PORT=off. */
  listen(): Promise<MetricsListener | undefined>;
}

/** The metrics of one gateway instance and the listener that serves them, as config.metrics says. */
export function createGatewayMetrics(config: Config['metrics'], sources: MetricsSources): GatewayMetricsEndpoint {
  const { port } = config;
  // Nobody could read them: counting would only cost memory.
  if (port === 'off') return { metrics: NO_METRICS, listen: () => Promise.resolve(undefined) };
  const metrics = createPrometheusMetrics({ ...sources, tenantLabels: config.tenantLabels });
  return {
    metrics,
    listen: () => startMetricsListener({ host: config.host, port, orFreePort: !config.portExplicit, metrics, logger: sources.logger }),
  };
}
