// Prometheus metrics: what the request path reports (tool calls, refusals,
// authentications, JWKS failures), kept in a registry of this instance's own.

import type { Principal } from '../tenancy/principal.js';
import type { Config } from '../config.js';
import type { GatewayError } from '../errors.js';
import type { ToolCallRecord } from './tool-call.js';
import type { Logger } from '../logger.js';
import { startMetricsListener, type MetricsListener } from './metrics-server.js';
import { createPrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.js';

export interface GatewayMetrics {
  /** One finished tool call. */
  toolCall(principal: Principal, record: ToolCallRecord): void;
  /** A request refused with a GatewayError (authentication, denial, rate limit, …); the principal when known. */
  requestRefused(error: GatewayError, principal: Principal | undefined): void;
  /** A request whose token passed every check. */
  authenticated(principal: Principal): void;
  /** The identity provider's key set could not be fetched. */
  jwksFailure(): void;
  /** One lookup in a cache of the tenant's graph data (src/cache): served from it (hit) or not. */
  cacheLookup(tenant: string, cache: CacheKind, hit: boolean): void;
}

/** The caches whose hits and misses are counted. */
export type CacheKind = 'schema' | 'graph_list' | 'query';

/** Metrics that go nowhere: for the CLI and stdio, which serve no /metrics. */
export const NO_METRICS: GatewayMetrics = {
  toolCall: () => undefined,
  requestRefused: () => undefined,
  authenticated: () => undefined,
  jwksFailure: () => undefined,
  cacheLookup: () => undefined,
};

export type MetricsSources = Pick<PrometheusMetricsOptions, 'database' | 'audit' | 'sessions'> & { logger: Logger };

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
