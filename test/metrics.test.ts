// The Prometheus metrics through real gateways on one real FalkorDB: the
// separate listener, exact counts after a known sequence of calls by two
// tenants, tenant label limits, and the rate-limit counters.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { decodeJwt } from 'jose';
import { freeLoopbackPort } from './support/ports.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { probeMcp, STATE_CACHE_EXPIRY_MS } from './support/http.js';
import { callTool, connectClient, mustCall, type ToolOutcome } from './support/mcp.js';
import { expiringToken, identityProviderToken, signTestToken } from './support/tokens.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (0.0.4): one sample per line, comments skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match !== null, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the sample with exactly these labels; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}

/** Every sample of one metric, as `labels → value`, for exact comparisons. */
function series(samples: Sample[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples.filter((x) => x.name === name)) {
    out[Object.entries(s.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')] = s.value;
  }
  return out;
}

async function scrape(gateway: RunningGateway): Promise<Sample[]> {
  assert.ok(gateway.metricsUrl !== undefined, 'the gateway has a metrics listener');
  const res = await fetch(gateway.metricsUrl);
  assert.equal(res.status, 200);
  return parseMetrics(await res.text());
}

const G = 'falkordb_gateway_';

let db: TestFalkorDB;
const gateways: RunningGateway[] = [];
const clients: Client[] = [];

async function gatewayWith(env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startTestGateway(db.url, { METRICS_PORT: '0', ...env });
  gateways.push(gateway);
  return gateway;
}

async function clientOf(gateway: RunningGateway, token: string, kind: 'http' | 'sse-header' = 'http'): Promise<Client> {
  const client = await connectClient(kind, gateway.url, token);
  clients.push(client);
  return client;
}

before(async () => {
  db = await startTestFalkorDB();
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const gateway of gateways.reverse()) await gateway.stop();
  await db?.cleanup();
});

describe('metrics listener', () => {
  let gateway: RunningGateway;
  before(async () => {
    gateway = await gatewayWith({});
  });

  it('serves Prometheus text on GET /metrics of its own port, with the process defaults', async () => {
    const url = new URL(gateway.metricsUrl!);
    assert.equal(url.pathname, '/metrics');
    assert.notEqual(Number(url.port), gateway.port);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const samples = parseMetrics(await res.text());
    assert.ok(valueOf(samples, 'process_cpu_user_seconds_total') !== undefined, 'process defaults are collected');
    assert.ok(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes'));
  });

  it('does not serve the metrics on the tenant-facing port', async () => {
    const res = await fetch(`${gateway.url}/metrics`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), new RegExp(G));
  });

  it('serves no tenant route on the metrics port', async () => {
    const base = new URL(gateway.metricsUrl!).origin;
    const token = await signTestToken('probe');
    assert.equal((await probeMcp(base, token)).status, 404);
    for (const path of ['/healthz', '/readyz', '/sse', '/.well-known/oauth-protected-resource', '/', '/metrics/extra']) {
      assert.equal((await fetch(`${base}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
  });

  it('reports the database as up, with the latency of a ping sent during the scrape', async () => {
    const samples = await scrape(gateway);
    assert.equal(valueOf(samples, `${G}database_up`), 1);
    const latency = valueOf(samples, `${G}database_latency_seconds`);
    assert.ok(latency !== undefined && latency > 0, `latency is a positive number of seconds, got ${latency}`);
  });

  it('counts open SSE sessions', async () => {
    assert.equal(valueOf(await scrape(gateway), `${G}sse_sessions`), 0);
    const client = await clientOf(gateway, await signTestToken('watcher'), 'sse-header');
    assert.equal(valueOf(await scrape(gateway), `${G}sse_sessions`), 1);
    await client.close();
    // The server learns of the closed stream a moment later; wait for it rather than for a time.
    let open = 1;
    for (let attempt = 0; attempt < 100 && open !== 0; attempt++) {
      await sleep(50);
      open = valueOf(await scrape(gateway), `${G}sse_sessions`) ?? -1;
    }
    assert.equal(open, 0);
  });

  it('starts no metrics listener with METRICS_PORT=off', async () => {
    const off = await gatewayWith({ METRICS_PORT: 'off' });
    assert.equal(off.metricsUrl, undefined);
    assert.equal((await fetch(`${off.url}/metrics`)).status, 404);
  });

  it('refuses to start when METRICS_PORT is taken, and says so naming METRICS_PORT', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    try {
      await assert.rejects(gatewayWith({ METRICS_PORT: String(port) }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'PORT_IN_USE');
        assert.match(error.message, new RegExp(`METRICS_PORT ${port} .*already in use.*METRICS_PORT=off`));
        return true;
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('counts after a known sequence of calls by two tenants', () => {
  let gateway: RunningGateway;
  let samples: Sample[];
  const outcomes: Record<string, ToolOutcome> = {};
  const refusals: Record<string, number> = {};


  const statusOf = async (label: string, response: Promise<Response> | Promise<{ status: number }>) => {
    refusals[label] = (await response).status;
  };

  before(async () => {
    // Nothing listens on the JWKS port: every RS256 token makes a failed key set fetch.
    const jwksPort = await freeLoopbackPort();
    gateway = await gatewayWith({ METRICS_TENANT_LABELS: 'all', AUTH_JWKS_URL: `http://127.0.0.1:${jwksPort}/jwks.json` });

    const acme = await clientOf(gateway, await signTestToken('acme'));
    await mustCall(acme, 'falkordb_list_graphs');
    outcomes.write = await callTool(acme, 'falkordb_query', { graphName: 'people', query: 'CREATE (:Person {name: "Ada"})' });
    outcomes.read = await callTool(acme, 'falkordb_query', { graphName: 'people', query: 'MATCH (p:Person) RETURN p.name AS name' });
    outcomes.failing = await callTool(acme, 'falkordb_query', { graphName: 'people', query: 'MATCH (p:Person RETURN p', readOnly: true });

    const widgets = await clientOf(gateway, await signTestToken('widgets'));
    outcomes.widgetsWrite = await callTool(widgets, 'falkordb_query', { graphName: 'things', query: 'CREATE (:Thing)' });
    await mustCall(widgets, 'falkordb_health');
    const widgetsReader = await clientOf(gateway, await signTestToken('widgets', { scope: 'read' }));
    outcomes.scopeMissing = await callTool(widgetsReader, 'falkordb_query', { graphName: 'things', query: 'CREATE (:Thing)' });

    await statusOf('expired', probeMcp(gateway.url, await signTestToken('acme', { expiresInSec: -3600 })));
    await statusOf('wrongAudience', probeMcp(gateway.url, await signTestToken('acme', { audience: 'someone-else' })));
    await statusOf('missing', fetch(`${gateway.url}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }));
    await statusOf('origin', fetch(`${gateway.url}/mcp`, { method: 'POST', headers: { Origin: 'https://evil.example' }, body: '{}' }));
    await statusOf('unknownKey', probeMcp(gateway.url, await identityProviderToken('acme')));
    await statusOf('expiring', probeMcp(gateway.url, await expiringToken('acme')));

    const revoked = await signTestToken('acme');
    await statusOf('beforeRevocation', probeMcp(gateway.url, revoked));
    const { jti, exp } = decodeJwt(revoked);
    await gateway.state.ledger.revokeJti(jti!, exp);
    await sleep(STATE_CACHE_EXPIRY_MS);
    await statusOf('revoked', probeMcp(gateway.url, revoked));

    samples = await scrape(gateway);
  });

  it('went through the sequence as planned', () => {
    assert.deepEqual(
      Object.fromEntries(Object.entries(outcomes).map(([name, o]) => [name, o.ok ? 'ok' : o.error?.code])),
      { write: 'ok', read: 'ok', failing: 'QUERY_FAILED', widgetsWrite: 'ok', scopeMissing: 'SCOPE_MISSING' },
    );
    assert.deepEqual(refusals, { expired: 401, wrongAudience: 401, missing: 401, origin: 403, unknownKey: 401, expiring: 200, beforeRevocation: 200, revoked: 401 });
  });

  it('counts tool calls by tool, outcome and tenant', () => {
    assert.deepEqual(series(samples, `${G}tool_calls_total`), {
      'outcome=success,tenant=acme,tool=falkordb_list_graphs': 1,
      'outcome=success,tenant=acme,tool=falkordb_query': 2,
      'outcome=error,tenant=acme,tool=falkordb_query': 1,
      'outcome=success,tenant=widgets,tool=falkordb_query': 1,
      'outcome=success,tenant=widgets,tool=falkordb_health': 1,
      'outcome=error,tenant=widgets,tool=falkordb_query': 1,
    });
  });

  it('times every falkordb_query call, by tenant and read or write', () => {
    assert.deepEqual(series(samples, `${G}query_duration_seconds_count`), {
      'kind=write,tenant=acme': 1,
      'kind=read,tenant=acme': 2,
      'kind=write,tenant=widgets': 1,
      'kind=read,tenant=widgets': 1,
    });
    const sum = valueOf(samples, `${G}query_duration_seconds_sum`, { tenant: 'acme', kind: 'read' });
    assert.ok(sum !== undefined && sum > 0);
  });

  it('counts authentication failures by reason', () => {
    assert.deepEqual(series(samples, `${G}auth_failures_total`), {
      'reason=expired': 1,
      'reason=wrong_audience': 1,
      'reason=missing': 1,
      'reason=unknown_key': 1,
      'reason=revoked': 1,
    });
  });

  it('counts refusals for a missing scope or a foreign origin as denials', () => {
    assert.deepEqual(series(samples, `${G}denied_total`), { 'reason=scope': 1, 'reason=origin': 1 });
  });

  it('counts the failed fetch of the identity provider\'s key set', () => {
    assert.equal(valueOf(samples, `${G}jwks_fetch_failures_total`), 1);
  });

  it('counts a long-lived token that is about to expire, and not the one-hour tokens', () => {
    assert.deepEqual(series(samples, `${G}expiring_token_uses_total`), { 'tenant=acme': 1 });
  });

  it('reports no rate-limit or concurrency refusals when there were none, and no failed audit writes', () => {
    assert.deepEqual(series(samples, `${G}rate_limited_total`), {});
    assert.deepEqual(series(samples, `${G}concurrency_rejected_total`), {});
    const audit = series(samples, `${G}audit_sink_failures_total`);
    assert.deepEqual(audit, { 'sink=log': 0, 'sink=stream': 0 });
  });
});

describe('rate-limit counters', () => {
  const RATE = 3;
  let gateway: RunningGateway;
  before(async () => {
    gateway = await gatewayWith({ RATE_LIMIT_PER_MINUTE: String(RATE), RATE_LIMIT_BURST: '0' });
  });

  it('counts each request refused for the tenant\'s rate', async () => {
    const token = await signTestToken('hasty');
    const statuses: number[] = [];
    for (let i = 0; i <= RATE; i++) statuses.push((await probeMcp(gateway.url, token)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.deepEqual(series(await scrape(gateway), `${G}rate_limited_total`), { 'tenant=hasty': 1 });
  });

  it('counts a tool call refused for the rate inside an SSE session, as a refusal and as a failed call', async () => {
    const client = await clientOf(gateway, await signTestToken('chatty'), 'sse-header');
    let succeeded = 0;
    let refusal: ToolOutcome | undefined;
    // Opening the session counted once already; each call in it counts again, until one is refused.
    for (let i = 0; i <= RATE && refusal === undefined; i++) {
      const outcome = await callTool(client, 'falkordb_list_graphs');
      if (outcome.ok) succeeded += 1;
      else refusal = outcome;
    }
    assert.equal(refusal?.error?.code, 'RATE_LIMITED');
    const samples = await scrape(gateway);
    assert.equal(valueOf(samples, `${G}rate_limited_total`, { tenant: 'chatty' }), 1);
    assert.equal(valueOf(samples, `${G}tool_calls_total`, { tool: 'falkordb_list_graphs', outcome: 'error', tenant: 'chatty' }), 1);
    assert.equal(valueOf(samples, `${G}tool_calls_total`, { tool: 'falkordb_list_graphs', outcome: 'success', tenant: 'chatty' }), succeeded);
  });
});

describe('tenant labels', () => {
  it('with METRICS_TENANT_LABELS=top:1, labels the second tenant seen "other"', async () => {
    const gateway = await gatewayWith({ METRICS_TENANT_LABELS: 'top:1' });
    const first = await clientOf(gateway, await signTestToken('first-seen'));
    const second = await clientOf(gateway, await signTestToken('second-seen'));
    await mustCall(second, 'falkordb_list_graphs');
    await mustCall(first, 'falkordb_list_graphs');
    await mustCall(second, 'falkordb_list_graphs');
    const samples = await scrape(gateway);
    assert.deepEqual(series(samples, `${G}tool_calls_total`), {
      'outcome=success,tenant=first-seen,tool=falkordb_list_graphs': 1,
      'outcome=success,tenant=other,tool=falkordb_list_graphs': 2,
    });
    assert.ok(!samples.some((s) => s.labels.tenant === 'second-seen'), 'the second tenant has no label of its own');
  });
});
