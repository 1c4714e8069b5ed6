// The Prometheus alerts and the Grafana dashboard in deploy/: promtool checks
// and unit-tests the rules, and every expression names only metrics, labels
// and label values a running gateway serves on its /metrics.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { probeMcp } from './support/http.js';
import { REPO_ROOT, callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const ALERTS_FILE = 'deploy/prometheus/alerts.yml';
const ALERT_TESTS_FILE = 'deploy/prometheus/alerts.test.yml';
const DASHBOARD_FILE = 'deploy/grafana/dashboard.json';

const PROMTOOL_MISSING =
  'promtool is not installed, and these tests need it. On Debian or Ubuntu: ' +
  '`sudo apt-get install -y --no-install-recommends prometheus` (it ships /usr/bin/promtool; .ci/run does this). ' +
  'Elsewhere: take promtool from a release at https://prometheus.io/download/ and put it on PATH.';

// --- What the gateway exports ------------------------------------------------

type LabelValues = readonly string[] | 'any';
type MetricType = 'counter' | 'gauge' | 'histogram';
/** Label name → the values it takes ('any' when open-ended, like tenant). */
type Labels = Record<string, LabelValues>;

/** The `reason` values of the two refusal counters, as the Observability issue defines them. */
const AUTH_FAILURE_REASONS = [
  'missing', 'malformed', 'bad_signature', 'algorithm', 'expired', 'not_yet_valid', 'wrong_issuer', 'wrong_audience', 'bad_claims',
  'no_tenant', 'revoked', 'unknown_key', 'query_token_disabled', 'tenant_disabled', 'tenant_not_registered', 'ip_forbidden',
];
const DENIAL_REASONS = ['scope', 'graph', 'ip', 'origin', 'host', 'session'];

/**
 * The gateway's own metric families with their labels: the contract the alerts
 * and the dashboard are written against. The live /metrics is checked against
 * it, so the two cannot drift apart.
 */
const GATEWAY_METRICS: Record<string, { type: MetricType; labels: Labels }> = {
  falkordb_gateway_tool_calls_total: { type: 'counter', labels: { tool: 'any', outcome: ['success', 'error'], tenant: 'any' } },
  falkordb_gateway_query_duration_seconds: { type: 'histogram', labels: { tenant: 'any', kind: ['read', 'write'] } },
  falkordb_gateway_auth_failures_total: { type: 'counter', labels: { reason: AUTH_FAILURE_REASONS } },
  falkordb_gateway_denied_total: { type: 'counter', labels: { reason: DENIAL_REASONS } },
  falkordb_gateway_rate_limited_total: { type: 'counter', labels: { tenant: 'any' } },
  falkordb_gateway_concurrency_rejected_total: { type: 'counter', labels: { tenant: 'any' } },
  falkordb_gateway_sse_sessions: { type: 'gauge', labels: {} },
  falkordb_gateway_database_up: { type: 'gauge', labels: {} },
  falkordb_gateway_database_latency_seconds: { type: 'gauge', labels: {} },
  falkordb_gateway_jwks_fetch_failures_total: { type: 'counter', labels: {} },
  falkordb_gateway_expiring_token_uses_total: { type: 'counter', labels: { tenant: 'any' } },
  falkordb_gateway_audit_sink_failures_total: { type: 'counter', labels: { sink: ['log', 'file', 'stream'] } },
  falkordb_gateway_cache_hits_total: { type: 'counter', labels: { cache: ['schema', 'graph_list', 'query'], tenant: 'any' } },
  falkordb_gateway_cache_misses_total: { type: 'counter', labels: { cache: ['schema', 'graph_list', 'query'], tenant: 'any' } },
};

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['instance', 'job'];

interface Scrape {
  /** Metric family → type, from the `# TYPE` lines. */
  families: Map<string, string>;
  samples: Array<{ name: string; labels: Record<string, string> }>;
}

function parseExposition(text: string): Scrape {
  const families = new Map<string, string>();
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1]!, type[2]!);
    const sample = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (sample) {
      const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      samples.push({ name: sample[1]!, labels });
    }
  }
  return { families, samples };
}

/** The series names a family is scraped as. */
function seriesOf(family: string, type: string): string[] {
  if (type === 'histogram') return ['_bucket', '_sum', '_count'].map((s) => family + s);
  if (type === 'summary') return [family, `${family}_sum`, `${family}_count`];
  return [family];
}

/**
 * Every series name a scrape of the gateway holds, with the labels of its own
 * series (undefined for prom-client's process and Node.js defaults, not checked).
 */
function exportedSeries(scrape: Scrape): Map<string, Labels | undefined> {
  const series = new Map<string, Labels | undefined>();
  for (const [family, type] of scrape.families) {
    const own = GATEWAY_METRICS[family];
    for (const name of seriesOf(family, type)) {
      series.set(name, own === undefined ? undefined : name.endsWith('_bucket') ? { ...own.labels, le: 'any' } : own.labels);
    }
  }
  return series;
}

let db: TestFalkorDB | undefined;
let gateway: RunningGateway | undefined;
let scraped: Promise<Scrape> | undefined;

/** Starts one gateway for the whole file (on first use), makes a few calls so that the labelled families have series, and reads its /metrics. */
function liveScrape(): Promise<Scrape> {
  scraped ??= (async () => {
    db = await startTestFalkorDB();
    gateway = await startTestGateway(db.url, { METRICS_PORT: '0' });
    const client = await connectClient('http', gateway.url, await signTestToken('metrics'));
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N {v: 1})' });
    await callTool(client, 'falkordb_query', { graphName: 'g', query: 'THIS IS NOT CYPHER' });
    await client.close();
    await probeMcp(gateway.url, 'not-a-token');
    assert.ok(gateway.metricsUrl, 'the gateway serves /metrics with METRICS_PORT=0');
    const response = await fetch(gateway.metricsUrl);
    assert.equal(response.status, 200);
    return parseExposition(await response.text());
  })();
  return scraped;
}

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

// --- Reading PromQL, just enough to find what it names ------------------------

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** Names of the series an expression selects (not functions, keywords, labels or numbers). */
function seriesNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const rest = bare.slice(match.index + match[0].length).trimStart();
    if (rest.startsWith('(') || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

interface Matcher {
  series: string;
  label: string;
  op: string;
  value: string;
}

/** Label matchers written right after a series name: `name{label op "value", …}`. */
function labelMatchers(expr: string): Matcher[] {
  const matchers: Matcher[] = [];
  for (const selector of expr.matchAll(/([A-Za-z_:][\w:]*)\s*\{([^}]*)\}/g)) {
    for (const m of selector[2]!.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      matchers.push({ series: selector[1]!, label: m[1]!, op: m[2]!, value: m[3]! });
    }
  }
  return matchers;
}

/** Labels named in `by (…)`, `without (…)`, `on (…)` and `ignoring (…)`. */
function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!.split(',').map((l) => l.trim()).filter((l) => l !== ''),
  );
}

/** Everything wrong with what an expression names; empty when it is all exported. */
function unknownNames(expr: string, exported: Map<string, Labels | undefined>): string[] {
  const problems: string[] = [];
  const names = seriesNames(expr);
  if (names.length === 0) problems.push('selects no metric at all');
  for (const name of names) if (!exported.has(name)) problems.push(`metric ${name} is not exported`);
  for (const { series, label, op, value } of labelMatchers(expr)) {
    const labels = exported.get(series);
    if (labels === undefined) continue;
    const values = labels[label];
    if (values === undefined && !TARGET_LABELS.includes(label)) problems.push(`${series} has no label ${label}`);
    else if (Array.isArray(values) && (op === '=' || op === '!=') && !values.includes(value)) problems.push(`${series}{${label}} is never "${value}"`);
  }
  const known = new Set(TARGET_LABELS);
  let checked = true;
  for (const name of names) {
    const labels = exported.get(name);
    if (labels === undefined) checked = false;
    else for (const label of Object.keys(labels)) known.add(label);
  }
  if (checked) for (const label of groupingLabels(expr)) if (!known.has(label)) problems.push(`groups by ${label}, which ${names.join(', ')} do not have`);
  return problems;
}

// --- The files -----------------------------------------------------------------

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTests {
  rule_files: string[];
  tests: Array<{
    name?: string;
    input_series: Array<{ series: string; values: string }>;
    alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts?: unknown[] }>;
  }>;
}
interface Panel {
  type: string;
  title: string;
  id: number;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: { uid: string }; definition?: string }> };
}

async function alertRules(): Promise<AlertRule[]> {
  const doc = parse(await readFile(path.join(REPO_ROOT, ALERTS_FILE), 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
}

async function alertTests(): Promise<AlertTests> {
  return parse(await readFile(path.join(REPO_ROOT, ALERT_TESTS_FILE), 'utf8')) as AlertTests;
}

async function dashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(path.join(REPO_ROOT, DASHBOARD_FILE), 'utf8')) as Dashboard;
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

function dashboardExprs(d: Dashboard): Array<{ title: string; expr: string }> {
  return allPanels(d.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
}

interface Finished {
  code: number;
  output: string;
}

/** Runs promtool in the repository; rejects with how to install it when it is not there. */
function promtool(args: string[], cwd = REPO_ROOT): Promise<Finished> {
  return new Promise((resolve, reject) => {
    execFile('promtool', args, { cwd }, (error, stdout, stderr) => {
      if (error?.code === 'ENOENT') return reject(new Error(PROMTOOL_MISSING));
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
    });
  });
}

// --- The tests -------------------------------------------------------------------

describe("the gateway's /metrics", () => {
  it('serves exactly the metric families the alerts and the dashboard are checked against', async () => {
    const scrape = await liveScrape();
    const served = Object.fromEntries([...scrape.families].filter(([family]) => family.startsWith('falkordb_gateway_')));
    assert.deepEqual(served, Object.fromEntries(Object.entries(GATEWAY_METRICS).map(([family, { type }]) => [family, type])));
    for (const family of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(scrape.families.has(family), `${family} (prom-client's defaults)`);
    }
  });

  it('labels its series the way the alerts and the dashboard expect', async () => {
    const scrape = await liveScrape();
    const exported = exportedSeries(scrape);
    const own = scrape.samples.filter((s) => s.name.startsWith('falkordb_gateway_'));
    for (const name of ['falkordb_gateway_tool_calls_total', 'falkordb_gateway_query_duration_seconds_bucket', 'falkordb_gateway_auth_failures_total']) {
      assert.ok(own.some((s) => s.name === name), `a ${name} series after the calls made`);
    }
    for (const { name, labels } of own) {
      const expected = exported.get(name);
      assert.ok(expected, `${name} is a series of a known family`);
      assert.deepEqual(Object.keys(labels).sort(), Object.keys(expected).sort(), `labels of ${name}`);
      for (const [label, value] of Object.entries(labels)) {
        const values = expected[label];
        if (Array.isArray(values)) assert.ok(values.includes(value), `${name}{${label}="${value}"} is one of ${values.join(', ')}`);
      }
    }
  });
});

describe('Prometheus alerts (deploy/prometheus/alerts.yml)', () => {
  it('pass promtool check rules', async () => {
    const rules = await alertRules();
    const run = await promtool(['check', 'rules', ALERTS_FILE]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('pass their promtool unit tests (alerts.test.yml)', async () => {
    const run = await promtool(['test', 'rules', ALERT_TESTS_FILE]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS/);
    assert.doesNotMatch(run.output, /FAILED/);
  });

  it('each have a unit test in which they fire, and the unit tests name no other alert', async () => {
    const names = (await alertRules()).map((r) => r.alert!);
    const suite = await alertTests();
    assert.deepEqual(suite.rule_files, ['alerts.yml']);
    const cases = suite.tests.flatMap((t) => t.alert_rule_test ?? []);
    const firing = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    assert.deepEqual(names.filter((n) => !firing.has(n)), [], 'alerts without a test case in which they fire');
    assert.deepEqual(cases.map((c) => c.alertname).filter((n) => !names.includes(n)), [], 'test cases for alerts that do not exist');
  });

  it('each wait a while, and say how bad it is, what it means and what to do', async () => {
    for (const rule of await alertRules()) {
      assert.match(rule.for ?? '', /^\d+[smh]$/, `${rule.alert}: for`);
      assert.ok(['warning', 'critical'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity is warning or critical`);
      assert.ok((rule.annotations?.summary ?? '').length > 10, `${rule.alert}: summary`);
      assert.ok((rule.annotations?.description ?? '').length > 100, `${rule.alert}: description says what it means and what to do`);
    }
  });

  it('are each explained in docs/observability.md', async () => {
    const doc = await readFile(path.join(REPO_ROOT, 'docs/observability.md'), 'utf8');
    for (const rule of await alertRules()) assert.match(doc, new RegExp(`^### ${rule.alert}$`, 'm'), `a section on ${rule.alert}`);
  });

  it('name only metrics, labels and label values the gateway exports', async () => {
    const exported = exportedSeries(await liveScrape());
    for (const rule of await alertRules()) assert.deepEqual(unknownNames(rule.expr, exported), [], `${rule.alert}: ${rule.expr}`);
  });

  it('are unit-tested on series shaped like the ones the gateway exports', async () => {
    const exported = exportedSeries(await liveScrape());
    for (const test of (await alertTests()).tests) {
      for (const { series } of test.input_series) assert.deepEqual(unknownNames(series, exported), [], `${test.name}: ${series}`);
    }
  });
});

describe('Grafana dashboard (deploy/grafana/dashboard.json)', () => {
  it('is an importable dashboard with a Prometheus data source variable and a tenant variable', async () => {
    const d = await dashboard();
    assert.ok(d.schemaVersion >= 39, `schemaVersion ${d.schemaVersion}`);
    assert.ok(d.uid && d.title);
    const datasource = d.templating.list.find((v) => v.name === 'datasource');
    assert.deepEqual([datasource?.type, datasource?.query], ['datasource', 'prometheus']);
    const tenant = d.templating.list.find((v) => v.name === 'tenant');
    assert.equal(tenant?.type, 'query');
    assert.equal(tenant?.datasource?.uid, '${datasource}');
    assert.equal((tenant?.query as { query?: string } | undefined)?.query, 'label_values(falkordb_gateway_tool_calls_total, tenant)');
    assert.equal(tenant?.definition, 'label_values(falkordb_gateway_tool_calls_total, tenant)');
  });

  it('queries every panel through the data source variable, with unique panel ids', async () => {
    const panels = allPanels((await dashboard()).panels);
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'panel ids are unique');
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
      for (const target of panel.targets ?? []) assert.equal(target.datasource?.uid, '${datasource}', panel.title);
    }
  });

  it('names only metrics, labels and label values the gateway exports', async () => {
    const exported = exportedSeries(await liveScrape());
    for (const { title, expr } of dashboardExprs(await dashboard())) assert.deepEqual(unknownNames(expr, exported), [], `${title}: ${expr}`);
  });

  it('charts every gateway metric, and filters tenant-labelled ones by the tenant variable', async () => {
    const exprs = dashboardExprs(await dashboard());
    const charted = new Set(exprs.flatMap(({ expr }) => seriesNames(expr)).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    assert.deepEqual(Object.keys(GATEWAY_METRICS).filter((m) => !charted.has(m)), [], 'gateway metrics on no panel');
    for (const { title, expr } of exprs) {
      for (const name of seriesNames(expr)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        if (GATEWAY_METRICS[base]?.labels.tenant === undefined) continue;
        assert.ok(labelMatchers(expr).some((m) => m.series === name && m.label === 'tenant' && m.op === '=~' && m.value === '$tenant'), `${title}: ${name} is filtered by tenant=~"$tenant"`);
      }
    }
  });

  it('has expressions Prometheus can parse', async () => {
    // Grafana's variables replaced by what they stand for, each expression as a
    // recording rule, so that promtool parses them all.
    const rules = dashboardExprs(await dashboard()).map(({ expr }, i) => ({
      record: `dashboard:expr_${i}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$tenant', '.*'),
    }));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dashboard-rules-'));
    try {
      await writeFile(path.join(dir, 'rules.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const run = await promtool(['check', 'rules', 'rules.yml'], dir);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
