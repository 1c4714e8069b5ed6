// GatewayMetrics kept in a Prometheus registry of this instance's own (tests run
// several gateways in one process), rendered as text on each scrape.

import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Principal } from '../tenancy/principal.js';
import type { GatewayError } from '../errors.js';
import type { Database } from '../falkordb/database.js';
import { isQueryCall, type ToolCallRecord } from './tool-call.js';
import type { AuditTrail } from './audit.js';
import { registerMetricFamilies } from './metric-families.js';
import type { GatewayMetrics } from './metrics.js';
import { refusalCount } from './refusal-reasons.js';
import { createTenantLabeler, type TenantLabelMode } from './tenant-labels.js';

/** A scrape must answer even when the database does not: past this, it counts as down. */
export const SCRAPE_PING_TIMEOUT_MS = 1000;
const DAY_SEC = 24 * 3600;
/** Rate-limit refusals always come after authentication; this only labels a refusal that somehow did not. */
const UNKNOWN_TENANT = 'unknown';

export interface PrometheusMetricsOptions {
  tenantLabels: TenantLabelMode;
  database: Pick<Database, 'ping' | 'primaryAvailable'>;
  audit: Pick<AuditTrail, 'sinkFailures' | 'heldEvents'>;
  /** Open SSE sessions; called on each scrape, so it may be bound to a server created later. */
  sessions: () => number;
  /** Requests and tool calls in progress; called on each scrape, like `sessions`. */
  inFlight: () => number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** INSTANCE_NAME, else the host name: the instance_info metric's label. */
  instanceName?: string;
  /** The databases of DATABASE_TARGETS (src/placement.ts), pinged on each scrape; may be bound to something made later. */
  targets?: () => TargetsToProbe | undefined;
}

/** What a scrape reads of the database targets: every configured name, and those reached so far. */
export interface TargetsToProbe {
  readonly names: readonly string[];
  connected(): Promise<Array<{ name: string; db: Pick<Database, 'ping'> }>>;
}

export interface PrometheusMetrics extends GatewayMetrics {
  /** This instance's registry (process defaults included); scrape() renders it. */
  readonly registry: Registry;
  /** The Content-Type of what scrape() returns. */
  readonly contentType: string;
  /** Pings the database, then renders every metric in the Prometheus text format. */
  scrape(): Promise<string>;
}

export function createPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const now = options.now ?? Date.now;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const m = registerMetricFamilies(registry, {
    sessions: options.sessions,
    inFlight: options.inFlight,
    auditSinkFailures: () => options.audit.sinkFailures(),
    auditHeld: () => options.audit.heldEvents(),
    primaryAvailable: () => options.database.primaryAvailable !== false,
  });
  const tenantLabel = createTenantLabeler(options.tenantLabels);
  if (options.instanceName !== undefined) m.instanceInfo.set({ instance_name: options.instanceName }, 1);

  // A target not reached yet, or not answering, is 0.
  const probeTargets = async () => {
    const targets = options.targets?.();
    if (targets === undefined) return;
    const connected = new Map((await targets.connected()).map(({ name, db }) => [name, db]));
    await Promise.all(
      targets.names.map(async (name) => {
        const up = await (connected.get(name)?.ping(SCRAPE_PING_TIMEOUT_MS).then(() => 1, () => 0) ?? Promise.resolve(0));
        m.targetUp.set({ target: name }, up);
      }),
    );
  };

  const countRefusal = (code: string, principal: Principal | undefined) => {
    const count = refusalCount(code);
    if (count === undefined) return;
    const tenant = principal === undefined ? UNKNOWN_TENANT : tenantLabel(principal.tenant);
    if (count.counter === 'auth_failure') m.authFailures.inc({ reason: count.reason });
    else if (count.counter === 'denied') m.denied.inc({ reason: count.reason });
    else if (count.counter === 'rate_limited') m.rateLimited.inc({ tenant });
    else m.concurrencyRejected.inc({ tenant });
  };

  // Both database gauges come from one PING, so they always describe the same moment.
  const probeDatabase = async () => {
    try {
      const latencyMs = await options.database.ping(SCRAPE_PING_TIMEOUT_MS);
      m.databaseUp.set(1);
      m.databaseLatency.set(latencyMs / 1000);
    } catch {
      m.databaseUp.set(0);
      m.databaseLatency.set(Number.NaN);
    }
  };

  return {
    registry,
    contentType: registry.contentType,

    toolCall(principal: Principal, record: ToolCallRecord) {
      const tenant = tenantLabel(principal.tenant);
      m.toolCalls.inc({ tool: record.tool, outcome: record.outcome, tenant });
      if (isQueryCall(record)) {
        m.queryDuration.observe({ tenant, kind: record.write === true ? 'write' : 'read' }, record.durationMs / 1000);
      }
      // Refusals inside a tool call (an SSE session's rate, the concurrency cap, a missing scope) count as refusals too.
      if (record.outcome === 'error' && record.errorCode !== undefined) countRefusal(record.errorCode, principal);
    },

    requestRefused(error: GatewayError, principal: Principal | undefined) {
      countRefusal(error.code, principal);
    },

    authenticated(principal: Principal) {
      // Seen first here, so top:N keeps the first N tenants to make a request, not to finish a call.
      const tenant = tenantLabel(principal.tenant);
      const { issuedAt, expiresAt } = principal;
      // Short-lived tokens always expire within a day; only a long-lived one running out is news.
      if (issuedAt !== undefined && expiresAt - issuedAt > DAY_SEC && expiresAt - now() / 1000 < DAY_SEC) {
        m.expiringTokenUses.inc({ tenant });
      }
    },

    jwksFailure() {
      m.jwksFailures.inc();
    },

    cacheLookup(tenant, cache, hit) {
      (hit ? m.cacheHits : m.cacheMisses).inc({ cache, tenant: tenantLabel(tenant) });
    },

    async scrape() {
      await Promise.all([probeDatabase(), probeTargets()]);
      return registry.metrics();
    },
  };
}
