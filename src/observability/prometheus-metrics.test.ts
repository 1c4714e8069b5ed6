import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../tenancy/principal.js';
import { GatewayError, type ErrorCode } from '../errors.js';
import type { ToolCallRecord } from './tool-call.js';
import { createPrometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.js';
import { AUTH_FAILURE_REASONS } from './refusal-reasons.js';

const NOW_SEC = 1_800_000_000;
const HOUR = 3600;
const DAY = 24 * HOUR;

function principal(tenant: string, lifetime: { issuedAt?: number; expiresAt?: number } = {}): Principal {
  return { tenant, subject: tenant, scopes: ['read', 'write'], expiresAt: lifetime.expiresAt ?? NOW_SEC + HOUR, issuedAt: lifetime.issuedAt ?? NOW_SEC };
}

function record(tool: string, outcome: 'success' | 'error', extra: Partial<ToolCallRecord> = {}): ToolCallRecord {
  return { tool, outcome, durationMs: 12, ...extra };
}

function metricsWith(options: Partial<PrometheusMetricsOptions> = {}): PrometheusMetrics {
  return createPrometheusMetrics({
    tenantLabels: 'all',
    database: { ping: () => Promise.resolve(2) },
    audit: { sinkFailures: () => ({ log: 0, stream: 0 }), heldEvents: () => 0 },
    sessions: () => 0,
    inFlight: () => 0,
    now: () => NOW_SEC * 1000,
    ...options,
  });
}

/** One sample's value; undefined when no sample has exactly these labels. */
async function sample(metrics: PrometheusMetrics, family: string, labels: Record<string, string> = {}, series = family): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(`falkordb_gateway_${family}`);
  assert.ok(metric !== undefined, `no metric family ${family}`);
  const { values } = await metric.get();
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = values.find(
    (v) => ((v as { metricName?: string }).metricName ?? `falkordb_gateway_${family}`) === `falkordb_gateway_${series}` && JSON.stringify(Object.entries(v.labels).map(([k, x]) => [k, String(x)]).sort()) === wanted,
  );
  return found?.value;
}

function refused(metrics: PrometheusMetrics, code: ErrorCode, who?: Principal): void {
  metrics.requestRefused(new GatewayError(code, 'refused'), who);
}

describe('prometheus metrics', () => {
  it('counts tool calls by tool, outcome and tenant', async () => {
    const metrics = metricsWith();
    metrics.toolCall(principal('acme'), record('falkordb_list_graphs', 'success'));
    metrics.toolCall(principal('acme'), record('falkordb_list_graphs', 'success'));
    metrics.toolCall(principal('acme'), record('falkordb_query', 'error', { errorCode: 'QUERY_FAILED' }));
    metrics.toolCall(principal('widgets'), record('falkordb_list_graphs', 'success'));
    assert.equal(await sample(metrics, 'tool_calls_total', { tool: 'falkordb_list_graphs', outcome: 'success', tenant: 'acme' }), 2);
    assert.equal(await sample(metrics, 'tool_calls_total', { tool: 'falkordb_query', outcome: 'error', tenant: 'acme' }), 1);
    assert.equal(await sample(metrics, 'tool_calls_total', { tool: 'falkordb_list_graphs', outcome: 'success', tenant: 'widgets' }), 1);
  });

  it('times the queries of falkordb_query and falkordb_read_query only, as a write when the record says the query wrote', async () => {
    const metrics = metricsWith();
    metrics.toolCall(principal('acme'), record('falkordb_query', 'success', { write: true, durationMs: 3 }));
    metrics.toolCall(principal('acme'), record('falkordb_query', 'success', { write: false, durationMs: 1500 }));
    metrics.toolCall(principal('acme'), record('falkordb_query', 'error', { errorCode: 'GRAPH_NAME_INVALID' }));
    metrics.toolCall(principal('acme'), record('falkordb_graph_schema', 'success'));
    metrics.toolCall(principal('acme'), record('falkordb_explain', 'success', { write: false }));
    metrics.toolCall(principal('acme'), record('falkordb_read_query', 'success', { write: false, durationMs: 2 }));
    const duration = (labels: Record<string, string>, series: string) => sample(metrics, 'query_duration_seconds', labels, `query_duration_seconds_${series}`);
    assert.equal(await duration({ tenant: 'acme', kind: 'write' }, 'count'), 1);
    assert.equal(await duration({ tenant: 'acme', kind: 'read' }, 'count'), 3);
    assert.equal(await duration({ tenant: 'acme', kind: 'write' }, 'sum'), 0.003);
    assert.equal(await duration({ tenant: 'acme', kind: 'read', le: '1' }, 'bucket'), 2, 'the 1.5 s query is above the 1 s bucket');
    assert.equal(await duration({ tenant: 'acme', kind: 'read', le: '60' }, 'bucket'), 3);
  });

  it('counts each authentication failure under the reason of its code', async () => {
    const metrics = metricsWith();
    const codes: ErrorCode[] = [
      'TOKEN_MISSING', 'TOKEN_MALFORMED', 'TOKEN_SIGNATURE_INVALID', 'TOKEN_ALGORITHM_REFUSED', 'TOKEN_EXPIRED', 'TOKEN_NOT_YET_VALID',
      'TOKEN_ISSUER_INVALID', 'TOKEN_AUDIENCE_INVALID', 'TOKEN_CLAIM_INVALID', 'TOKEN_TENANT_MISSING', 'TOKEN_REVOKED', 'TOKEN_KEY_UNKNOWN',
      'QUERY_TOKEN_DISABLED', 'AUTH_FAILURES_LIMITED', 'TENANT_DISABLED', 'TENANT_NOT_REGISTERED',
    ];
    codes.forEach((code, i) => {
      for (let n = 0; n <= i; n++) refused(metrics, code);
    });
    const reasons = [
      'missing', 'malformed', 'bad_signature', 'algorithm', 'expired', 'not_yet_valid', 'wrong_issuer', 'wrong_audience',
      'bad_claims', 'no_tenant', 'revoked', 'unknown_key', 'query_token_disabled', 'address_limited', 'tenant_disabled', 'tenant_not_registered',
    ];
    assert.deepEqual([...AUTH_FAILURE_REASONS], reasons);
    for (const [i, reason] of reasons.entries()) assert.equal(await sample(metrics, 'auth_failures_total', { reason }), i + 1, reason);
  });

  it('counts address, origin, host, scope and session refusals as denials, not authentication failures', async () => {
    const metrics = metricsWith();
    for (const code of ['IP_FORBIDDEN', 'ORIGIN_FORBIDDEN', 'HOST_FORBIDDEN', 'SCOPE_MISSING', 'SESSION_FORBIDDEN'] as const) refused(metrics, code);
    metrics.toolCall(principal('acme'), record('falkordb_query', 'error', { errorCode: 'SCOPE_MISSING' }));
    for (const reason of ['ip', 'origin', 'host', 'session']) assert.equal(await sample(metrics, 'denied_total', { reason }), 1, reason);
    assert.equal(await sample(metrics, 'denied_total', { reason: 'scope' }), 2, 'one request, one tool call');
    assert.equal((await metrics.registry.getSingleMetric('falkordb_gateway_auth_failures_total')!.get()).values.length, 0);
  });

  it('counts rate-limit and concurrency refusals per tenant, from requests and tool calls alike', async () => {
    const metrics = metricsWith();
    refused(metrics, 'RATE_LIMITED', principal('acme'));
    metrics.toolCall(principal('acme'), record('falkordb_list_graphs', 'error', { errorCode: 'RATE_LIMITED' }));
    metrics.toolCall(principal('widgets'), record('falkordb_query', 'error', { errorCode: 'TOO_MANY_QUERIES' }));
    refused(metrics, 'TOO_MANY_QUERIES', principal('widgets'));
    assert.equal(await sample(metrics, 'rate_limited_total', { tenant: 'acme' }), 2);
    assert.equal(await sample(metrics, 'concurrency_rejected_total', { tenant: 'widgets' }), 2);
    assert.equal(await sample(metrics, 'rate_limited_total', { tenant: 'widgets' }), undefined);
  });

  it('leaves refusals that are not access decisions (bad arguments, unknown graphs) to the tool call counter', async () => {
    const metrics = metricsWith();
    refused(metrics, 'REQUEST_INVALID');
    metrics.toolCall(principal('acme'), record('falkordb_query', 'error', { errorCode: 'GRAPH_NOT_FOUND' }));
    const text = await metrics.scrape();
    assert.doesNotMatch(text, /^falkordb_gateway_(auth_failures|denied|rate_limited|concurrency_rejected)_total\{/m);
  });

  it('counts uses of a long-lived token that expires within a day, but not of short-lived tokens', async () => {
    const metrics = metricsWith();
    metrics.authenticated(principal('acme', { issuedAt: NOW_SEC - 29 * DAY, expiresAt: NOW_SEC + 2 * HOUR }));
    metrics.authenticated(principal('acme', { issuedAt: NOW_SEC - 29 * DAY, expiresAt: NOW_SEC + 2 * DAY }));
    metrics.authenticated(principal('widgets', { issuedAt: NOW_SEC, expiresAt: NOW_SEC + HOUR }));
    metrics.authenticated(principal('widgets', { issuedAt: NOW_SEC - 23 * HOUR, expiresAt: NOW_SEC + HOUR }));
    assert.equal(await sample(metrics, 'expiring_token_uses_total', { tenant: 'acme' }), 1);
    assert.equal(await sample(metrics, 'expiring_token_uses_total', { tenant: 'widgets' }), undefined);
  });

  it('labels tenants beyond the first N "other" in every per-tenant counter', async () => {
    const metrics = metricsWith({ tenantLabels: 1 });
    metrics.authenticated(principal('acme'));
    metrics.toolCall(principal('widgets'), record('falkordb_list_graphs', 'success'));
    refused(metrics, 'RATE_LIMITED', principal('widgets'));
    metrics.toolCall(principal('acme'), record('falkordb_list_graphs', 'success'));
    assert.equal(await sample(metrics, 'tool_calls_total', { tool: 'falkordb_list_graphs', outcome: 'success', tenant: 'acme' }), 1);
    assert.equal(await sample(metrics, 'tool_calls_total', { tool: 'falkordb_list_graphs', outcome: 'success', tenant: 'other' }), 1);
    assert.equal(await sample(metrics, 'rate_limited_total', { tenant: 'other' }), 1);
    assert.doesNotMatch(await metrics.scrape(), /tenant="widgets"/);
  });

  it('pings the database on each scrape, and reports it down when the ping fails', async () => {
    let answers = true;
    const metrics = metricsWith({ database: { ping: () => (answers ? Promise.resolve(4) : Promise.reject(new GatewayError('DATABASE_UNREACHABLE', 'down'))) } });
    assert.match(await metrics.scrape(), /^falkordb_gateway_database_up 1$/m);
    assert.equal(await sample(metrics, 'database_latency_seconds'), 0.004);
    answers = false;
    const text = await metrics.scrape();
    assert.match(text, /^falkordb_gateway_database_up 0$/m);
    assert.ok(Number.isNaN(await sample(metrics, 'database_latency_seconds')));
  });

  it('reads the SSE sessions, audit sink failures and JWKS failures as they stand at the scrape', async () => {
    let sessions = 2;
    let failures = { log: 0, file: 3, stream: 1 };
    const metrics = metricsWith({ sessions: () => sessions, audit: { sinkFailures: () => failures, heldEvents: () => 0 } });
    metrics.jwksFailure();
    metrics.jwksFailure();
    assert.equal(await sample(metrics, 'sse_sessions'), 2);
    assert.equal(await sample(metrics, 'audit_sink_failures_total', { sink: 'file' }), 3);
    assert.equal(await sample(metrics, 'jwks_fetch_failures_total'), 2);
    sessions = 0;
    failures = { log: 0, file: 5, stream: 1 };
    assert.equal(await sample(metrics, 'sse_sessions'), 0);
    assert.equal(await sample(metrics, 'audit_sink_failures_total', { sink: 'file' }), 5);
    assert.equal(await sample(metrics, 'audit_sink_failures_total', { sink: 'log' }), 0);
  });

  it('reads the work in flight as it stands at each scrape', async () => {
    let inFlight = 3;
    const metrics = metricsWith({ inFlight: () => inFlight });
    assert.equal(await sample(metrics, 'in_flight'), 3);
    inFlight = 0;
    assert.match(await metrics.scrape(), /^falkordb_gateway_in_flight 0$/m);
  });

  it('keeps each instance\'s counts in its own registry, with the process defaults in each', async () => {
    const one = metricsWith();
    const two = metricsWith();
    one.toolCall(principal('acme'), record('falkordb_health', 'success'));
    assert.equal(await sample(one, 'tool_calls_total', { tool: 'falkordb_health', outcome: 'success', tenant: 'acme' }), 1);
    assert.equal(await sample(two, 'tool_calls_total', { tool: 'falkordb_health', outcome: 'success', tenant: 'acme' }), undefined);
    for (const metrics of [one, two]) assert.match(await metrics.scrape(), /^process_cpu_user_seconds_total /m);
  });
});
