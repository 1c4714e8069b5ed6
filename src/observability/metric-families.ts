// The gateway's Prometheus metric families, registered in a registry of the
// caller's: names and labels here are what dashboards and alert rules rely on.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const METRIC_PREFIX = 'falkordb_gateway_';

/** From a 1 ms lookup to the longest query a QUERY_TIMEOUT_MS of a minute allows. */
export const QUERY_DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What a scrape reads from elsewhere, at the moment of the scrape. */
export interface ScrapeSources {
  /** Open legacy SSE sessions. */
  sessions: () => number;
  /** Work in progress on this instance: HTTP requests being answered (SSE streams aside) and tool calls running. */
  inFlight: () => number;
  /** Failed writes per audit sink since start. */
  auditSinkFailures: () => Record<string, number>;
  /** Audit events held in memory while the database does not take writes. */
  auditHeld: () => number;
  /** False while the primary behind read replicas is down (reads served, writes refused). */
  primaryAvailable: () => boolean;
}

export function registerMetricFamilies(registry: Registry, sources: ScrapeSources) {
  const registers = [registry];
  return {
    toolCalls: new Counter({
      name: `${METRIC_PREFIX}tool_calls_total`,
      help: 'Finished MCP tool calls, by tool, outcome (success or error) and tenant.',
      labelNames: ['tool', 'outcome', 'tenant'] as const,
      registers,
    }),
    queryDuration: new Histogram({
      name: `${METRIC_PREFIX}query_duration_seconds`,
      help: 'Duration of falkordb_query calls as the gateway saw them, by tenant and kind (write when the query changed the graph, else read).',
      labelNames: ['tenant', 'kind'] as const,
      buckets: [...QUERY_DURATION_BUCKETS],
      registers,
    }),
    authFailures: new Counter({
      name: `${METRIC_PREFIX}auth_failures_total`,
      help: 'Requests refused for their token or their tenant\'s status, by reason (expired, revoked, wrong_audience, ...).',
      labelNames: ['reason'] as const,
      registers,
    }),
    denied: new Counter({
      name: `${METRIC_PREFIX}denied_total`,
      help: 'Requests and tool calls refused for a missing scope or a forbidden graph, address, origin, host or session, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: `${METRIC_PREFIX}rate_limited_total`,
      help: 'Requests and tool calls refused because the tenant was over its rate limit.',
      labelNames: ['tenant'] as const,
      registers,
    }),
    concurrencyRejected: new Counter({
      name: `${METRIC_PREFIX}concurrency_rejected_total`,
      help: 'Queries refused because the tenant (or the instance) had too many running for longer than the queue timeout.',
      labelNames: ['tenant'] as const,
      registers,
    }),
    expiringTokenUses: new Counter({
      name: `${METRIC_PREFIX}expiring_token_uses_total`,
      help: 'Requests authenticated with a long-lived token (lifetime over 24 h) that expires within 24 h: a device about to lose access.',
      labelNames: ['tenant'] as const,
      registers,
    }),
    jwksFailures: new Counter({
      name: `${METRIC_PREFIX}jwks_fetch_failures_total`,
      help: 'Times the identity provider\'s key set (AUTH_JWKS_URL) could not be fetched.',
      registers,
    }),
    auditSinkFailures: new Counter({
      name: `${METRIC_PREFIX}audit_sink_failures_total`,
      help: 'Audit events that could not be written, by sink (log, file, stream).',
      labelNames: ['sink'] as const,
      registers,
      // The audit trail keeps the totals; a scrape copies them.
      collect() {
        this.reset();
        for (const [sink, total] of Object.entries(sources.auditSinkFailures())) this.inc({ sink }, total);
      },
    }),
    auditHeld: new Gauge({
      name: `${METRIC_PREFIX}audit_events_held`,
      help: 'Audit events this instance holds in memory while the database does not take writes (its primary down), to write in order once it does; at most AUDIT_BUFFER_MAX.',
      registers,
      collect() {
        this.set(sources.auditHeld());
      },
    }),
    cacheHits: new Counter({
      name: `${METRIC_PREFIX}cache_hits_total`,
      help: 'Lookups served from a cache of tenant graph data, by cache (schema, graph_list, query) and tenant.',
      labelNames: ['cache', 'tenant'] as const,
      registers,
    }),
    cacheMisses: new Counter({
      name: `${METRIC_PREFIX}cache_misses_total`,
      help: 'Lookups in a cache of tenant graph data that went to the database (nothing cached, or invalidated by a write), by cache and tenant.',
      labelNames: ['cache', 'tenant'] as const,
      registers,
    }),
    sseSessions: new Gauge({
      name: `${METRIC_PREFIX}sse_sessions`,
      help: 'Open legacy HTTP+SSE sessions on this instance.',
      registers,
      collect() {
        this.set(sources.sessions());
      },
    }),
    // The load an autoscaler weighs per pod (deploy/k8s/hpa.yaml): what this instance is busy with right now.
    inFlight: new Gauge({
      name: `${METRIC_PREFIX}in_flight`,
      help: 'Work this instance is doing right now: HTTP requests being answered (open SSE streams aside) and tool calls running, what a shutdown waits for. A tool call over POST /mcp counts twice, as its request and as the call; one over an SSE session once.',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    }),
    instanceInfo: new Gauge({
      name: `${METRIC_PREFIX}instance_info`,
      help: 'Always 1; its instance_name label is this instance\'s name in the audit trail (INSTANCE_NAME, else the host name).',
      labelNames: ['instance_name'],
      registers,
    }),
    targetUp: new Gauge({
      name: `${METRIC_PREFIX}database_target_up`,
      help: '1 when the database target (DATABASE_TARGETS) answered a PING during the scrape, else 0 (also while this instance has not reached it).',
      labelNames: ['target'],
      registers,
    }),
    databaseUp: new Gauge({
      name: `${METRIC_PREFIX}database_up`,
      help: '1 when FalkorDB answered a PING during the scrape, else 0.',
      registers,
    }),
    degraded: new Gauge({
      name: `${METRIC_PREFIX}degraded`,
      help: '1 while the primary database server is down and read replicas serve the reads (writes refused with PRIMARY_UNAVAILABLE), else 0.',
      registers,
      collect() {
        this.set(sources.primaryAvailable() ? 0 : 1);
      },
    }),
    databaseLatency: new Gauge({
      name: `${METRIC_PREFIX}database_latency_seconds`,
      help: 'Round trip of the PING sent during the scrape; NaN while the database does not answer.',
      registers,
    }),
  };
}
