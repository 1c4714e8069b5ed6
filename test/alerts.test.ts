// The Prometheus alerts, the Grafana dashboard in deploy/ and the metrics table
// of docs/observability.md: promtool checks and unit-tests the rules, and every
// metric, label and label value they name must be one a running gateway really
// exports, once each documented refusal has been provoked.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { parse, stringify } from 'yaml';
import { freeLoopbackPort } from './support/ports.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { openRawSse, probeMcp, STATE_CACHE_EXPIRY_MS } from './support/http.js';
import { REPO_ROOT, callTool, connectClient, mustCall } from './support/mcp.js';
import { expiringToken, identityProviderToken, signTestToken, TEST_AUDIENCE, TEST_ISSUER } from './support/tokens.js';

const ALERTS_FILE = 'deploy/prometheus/alerts.yml';
const ALERT_TESTS_FILE = 'deploy/prometheus/alerts.test.yml';
const DASHBOARD_FILE = 'deploy/grafana/dashboard.json';
const OBSERVABILITY_DOC = 'docs/observability.md';

const PROMTOOL_MISSING =
  'promtool is not installed, and these tests need it. On Debian or Ubuntu: ' +
  '`sudo apt-get install -y --no-install-recommends prometheus` (it ships /usr/bin/promtool; .ci/run does this). ' +
  'Elsewhere: take promtool from a release at https://prometheus.io/download/ and put it on PATH.';

// --- What docs/observability.md says the gateway exports -----------------------

type MetricType = 'counter' | 'gauge' | 'histogram';
/** Label name → the values the doc lists for it, or 'any' when it lists none (tool, tenant). */
type DocumentedLabels = Record<string, readonly string[] | 'any'>;

const DOC = readFileSync(path.join(REPO_ROOT, OBSERVABILITY_DOC), 'utf8');

/**
 * The rows of the doc's metrics table, `| \`name\` | type … | \`label\` (\`value\`, …), … | what |`:
 * the contract operators write alerts and dashboards against.
 */
function documentedMetrics(doc: string): Record<string, { type: MetricType; labels: DocumentedLabels }> {
  const metrics: Record<string, { type: MetricType; labels: DocumentedLabels }> = {};
  for (const row of doc.matchAll(/^\|\s*`(falkordb_gateway_\w+)`\s*\|\s*(\w+)[^|]*\|([^|]*)\|/gm)) {
    const labels: DocumentedLabels = {};
    for (const label of row[3]!.matchAll(/`(\w+)`(?:\s*\(([^)]*)\))?/g)) {
      labels[label[1]!] = label[2] === undefined ? 'any' : [...label[2].matchAll(/`([^`]+)`/g)].map((v) => v[1]!);
    }
    metrics[row[1]!] = { type: row[2] as MetricType, labels };
  }
  return metrics;
}

const DOCUMENTED = documentedMetrics(DOC);

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['instance', 'job'];

// --- What a running gateway exports ---------------------------------------------

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

/** Label name → every value a series carried in the scrape; 'any' for open-ended labels (tool, tenant) whose values are the callers'. */
type SeenLabels = Record<string, string[] | 'any'>;

/**
 * Every series name a scrape holds, with the label values its samples really
 * carried (undefined for prom-client's process and Node.js defaults, not checked).
 */
function exportedSeries(scrape: Scrape): Map<string, SeenLabels | undefined> {
  const series = new Map<string, SeenLabels | undefined>();
  const documented = new Map<string, DocumentedLabels>();
  for (const [family, type] of scrape.families) {
    const own = family.startsWith('falkordb_gateway_');
    for (const name of seriesOf(family, type)) {
      series.set(name, own ? {} : undefined);
      documented.set(name, DOCUMENTED[family]?.labels ?? {});
    }
  }
  for (const { name, labels } of scrape.samples) {
    const seen = series.get(name);
    if (seen === undefined) continue;
    for (const [label, value] of Object.entries(labels)) {
      if (documented.get(name)?.[label] === 'any') seen[label] = 'any';
      const values = (seen[label] ??= []);
      if (Array.isArray(values) && !values.includes(value)) values.push(value);
    }
  }
  return series;
}

/** A token the gateway can read but would never issue: its header and claims as given, no signature. */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}


/** POST /mcp with a Host header of our choosing (fetch may not set Host). */
/** POSTs to /mcp over a connection of its own, with another Host header or from another loopback address. */
function postRaw(baseUrl: string, token: string, options: { host?: string; localAddress?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { ...(options.host === undefined ? {} : { Host: options.host }), Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const req = http.request(`${baseUrl}/mcp`, { method: 'POST', headers, agent: false, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

const TENANT = 'obs-acme';

/**
 * Makes the gateway count every documented outcome at least once: tool calls that
 * succeed and fail, reads and writes, each cache's hits and misses, every reason of
 * the authentication failure and denial counters, a rate limit, a concurrency
 * refusal and a token about to expire. Returns what each provocation got.
 */
async function provokeEveryOutcome(gw: RunningGateway): Promise<Record<string, number | string>> {
  const got: Record<string, number | string> = {};
  const { tenants } = gw.state;
  for (const id of [TENANT, 'obs-other']) await tenants.add({ id });
  await tenants.add({ id: 'obs-walled', allowIps: ['192.0.2.0/24'] });
  await tenants.add({ id: 'obs-tiny', plan: 'tiny' });
  await tenants.add({ id: 'obs-disabled' });
  await tenants.setEnabled('obs-disabled', false);

  const client = await connectClient('http', gw.url, await signTestToken(TENANT));
  try {
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N {v: 1})' });
    for (let i = 0; i < 2; i++) {
      await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:N) RETURN n.v AS v', readOnly: true });
      await mustCall(client, 'falkordb_list_graphs');
      await mustCall(client, 'falkordb_graph_schema', { graphName: 'g' });
    }
    got.queryFailed = (await callTool(client, 'falkordb_query', { graphName: 'g', query: 'THIS IS NOT CYPHER' })).error?.code ?? 'ok';
    // MAX_CONCURRENT_QUERIES_PER_TENANT=1: of queries sent at once, those beyond one running and one queued are refused.
    for (let round = 0; round < 5 && got.concurrency !== 'TOO_MANY_QUERIES'; round++) {
      const burst = Array.from({ length: 6 }, (_, i) => callTool(client, 'falkordb_query', { graphName: 'g', query: `UNWIND range(1, 1000000) AS x RETURN count(x) + ${round * 10 + i} AS n` }));
      const codes = (await Promise.all(burst)).map((o) => o.error?.code);
      got.concurrency = codes.find((c) => c === 'TOO_MANY_QUERIES') ?? codes.join(',');
    }
  } finally {
    await client.close();
  }

  const reader = await connectClient('http', gw.url, await signTestToken(TENANT, { scope: 'read' }));
  got.scope = (await callTool(reader, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' })).error?.code ?? 'ok';
  await reader.close();
  const narrowed = await connectClient('http', gw.url, await signTestToken(TENANT, { claims: { graphs: ['elsewhere'] } }));
  got.graph = (await callTool(narrowed, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN n' })).error?.code ?? 'ok';
  await narrowed.close();

  const probe = async (label: string, token: string) => {
    got[label] = (await probeMcp(gw.url, token)).status;
  };
  await probe('expiring', await expiringToken(TENANT));
  got.missing = (await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status;
  await probe('malformed', 'not-a-token');
  await probe('badSignature', await signTestToken(TENANT, { secret: 'another-secret-for-hs256-at-least-32-bytes' }));
  await probe('algorithm', unsignedToken({ sub: TENANT, iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 3600 }));
  await probe('expired', await signTestToken(TENANT, { expiresInSec: -3600 }));
  await probe('notYetValid', await signTestToken(TENANT, { notBeforeSec: 3600 }));
  await probe('wrongIssuer', await signTestToken(TENANT, { issuer: 'someone-else' }));
  await probe('wrongAudience', await signTestToken(TENANT, { audience: 'someone-else' }));
  await probe('badClaims', await signTestToken(TENANT, { claims: { graphs: 42 } }));
  await probe('noTenant', await signTestToken(TENANT, { omitSub: true }));
  await probe('unknownKey', await identityProviderToken(TENANT));
  got.queryToken = (await fetch(`${gw.url}/mcp?token=${await signTestToken(TENANT)}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status;
  await probe('tenantDisabled', await signTestToken('obs-disabled'));
  await probe('tenantNotRegistered', await signTestToken('obs-stranger'));
  await probe('ip', await signTestToken('obs-walled'));
  got.origin = (await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { Origin: 'https://evil.example', Authorization: `Bearer ${await signTestToken(TENANT)}` }, body: '{}' })).status;
  got.host = await postRaw(gw.url, await signTestToken(TENANT), { host: 'evil.example' });
  // Another loopback address, so that its failed logins pass AUTH_FAILURES_PER_MINUTE and no other probe's do.
  for (let i = 0; i < 60 && got.addressLimited !== 429; i++) got.addressLimited = await postRaw(gw.url, 'not-a-token', { localAddress: '127.0.0.7' });

  const sse = await openRawSse(gw.url, await signTestToken(TENANT));
  try {
    const post = await fetch(new URL(sse.endpoint, gw.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${await signTestToken('obs-other')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    got.session = post.status;
  } finally {
    sse.close();
  }

  const tiny = await signTestToken('obs-tiny');
  for (let i = 0; i < 10 && got.rateLimited !== 429; i++) got.rateLimited = (await probeMcp(gw.url, tiny)).status;

  const revoked = await signTestToken(TENANT);
  const { jti, exp } = decodeJwt(revoked);
  await gw.state.ledger.revokeJti(jti!, exp);
  await sleep(STATE_CACHE_EXPIRY_MS);
  await probe('revoked', revoked);
  return got;
}

const PROVOKED = {
  queryFailed: 'QUERY_FAILED', concurrency: 'TOO_MANY_QUERIES', scope: 'SCOPE_MISSING', graph: 'GRAPH_FORBIDDEN', expiring: 200,
  missing: 401, malformed: 401, badSignature: 401, algorithm: 401, expired: 401, notYetValid: 401, wrongIssuer: 401, wrongAudience: 401,
  badClaims: 401, noTenant: 401, unknownKey: 401, queryToken: 401, tenantDisabled: 403, tenantNotRegistered: 403, ip: 403, origin: 403, host: 403,
  session: 403, rateLimited: 429, revoked: 401, addressLimited: 429,
};

let db: TestFalkorDB | undefined;
let gateway: RunningGateway | undefined;
let auditDir: string | undefined;
let scraped: Promise<{ scrape: Scrape; provoked: Record<string, number | string> }> | undefined;

/** Starts one gateway for the whole file (on first use), provokes every documented outcome, and reads its /metrics. */
function liveRun(): Promise<{ scrape: Scrape; provoked: Record<string, number | string> }> {
  scraped ??= (async () => {
    db = await startTestFalkorDB();
    auditDir = await mkdtemp(path.join(os.tmpdir(), 'alerts-audit-'));
    // Nothing listens on the JWKS port: every RS256 token makes a failed key set fetch.
    const jwksPort = await freeLoopbackPort();
    gateway = await startTestGateway(db.url, {
      METRICS_PORT: '0',
      METRICS_TENANT_LABELS: 'all',
      AUTH_JWKS_URL: `http://127.0.0.1:${jwksPort}/jwks.json`,
      AUTH_ALLOW_QUERY_TOKEN: 'false',
      TENANTS_REQUIRE_REGISTRATION: 'true',
      AUDIT_LOG_FILE: path.join(auditDir, 'audit.log'),
      QUERY_CACHE_TTL_MS: '60000',
      RATE_LIMIT_PLANS: 'tiny=1',
      RATE_LIMIT_BURST: '0',
      MAX_CONCURRENT_QUERIES_PER_TENANT: '1',
      AUTH_FAILURES_PER_MINUTE: '40',
      // A database target, for its series (the same server will do: no tenant is placed on it).
      DATABASE_TARGETS: 'spare',
      DATABASE_TARGET_SPARE_URL: db.url,
    });
    const provoked = await provokeEveryOutcome(gateway);
    assert.ok(gateway.metricsUrl, 'the gateway serves /metrics with METRICS_PORT=0');
    const response = await fetch(gateway.metricsUrl);
    assert.equal(response.status, 200);
    return { scrape: parseExposition(await response.text()), provoked };
  })();
  return scraped;
}

const liveScrape = async (): Promise<Scrape> => (await liveRun()).scrape;

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
  if (auditDir !== undefined) await rm(auditDir, { recursive: true, force: true });
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
function unknownNames(expr: string, exported: Map<string, SeenLabels | undefined>): string[] {
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

describe("the gateway's /metrics against docs/observability.md", () => {
  it('got each documented refusal and outcome it was made to count', async () => {
    assert.deepEqual((await liveRun()).provoked, PROVOKED);
  });

  it('serves exactly the metric families the doc\'s table lists, of the types it gives', async () => {
    const scrape = await liveScrape();
    assert.ok(Object.keys(DOCUMENTED).length >= 10, `the doc's metrics table was read: ${Object.keys(DOCUMENTED).join(', ')}`);
    const served = Object.fromEntries([...scrape.families].filter(([family]) => family.startsWith('falkordb_gateway_')));
    assert.deepEqual(served, Object.fromEntries(Object.entries(DOCUMENTED).map(([family, { type }]) => [family, type])));
    for (const prefix of ['process_', 'nodejs_']) assert.ok([...scrape.families.keys()].some((f) => f.startsWith(prefix)), `${prefix}* (prom-client's defaults), as the doc says`);
  });

  it('labels every series with the documented labels, and exports each documented label value and no other', async () => {
    const { samples } = await liveScrape();
    for (const [family, { type, labels }] of Object.entries(DOCUMENTED)) {
      for (const name of seriesOf(family, type)) {
        const own = samples.filter((s) => s.name === name);
        assert.ok(own.length > 0, `a ${name} series`);
        const expected = Object.keys(labels).concat(name.endsWith('_bucket') ? ['le'] : []).sort();
        for (const sample of own) assert.deepEqual(Object.keys(sample.labels).sort(), expected, `labels of ${name}`);
        for (const [label, values] of Object.entries(labels)) {
          const seen = [...new Set(own.map((s) => s.labels[label]!))].sort();
          if (values === 'any') assert.ok(seen.length > 0, `${name}{${label}}`);
          else assert.deepEqual(seen, [...values].sort(), `${name}{${label}}: the values exported, against the values docs/observability.md lists`);
        }
      }
    }
  });

  it('names in its text and examples only series and label values a gateway exports', async () => {
    const scrape = await liveScrape();
    const exported = exportedSeries(scrape);
    const named = [...new Set([...DOC.matchAll(/\bfalkordb_gateway_\w+/g)].map((m) => m[0]))];
    assert.deepEqual(named.filter((n) => !exported.has(n) && !scrape.families.has(n)), [], 'metrics the doc names that the gateway does not export');
    const matchers = labelMatchers(DOC).filter((m) => m.series.startsWith('falkordb_gateway_'));
    assert.ok(matchers.length > 0, 'the doc has example selectors');
    for (const { series, label, op, value } of matchers) {
      const values = exported.get(series)?.[label];
      assert.ok(values !== undefined || TARGET_LABELS.includes(label), `${series} has no label ${label}`);
      if (Array.isArray(values) && (op === '=' || op === '!=')) assert.ok(values.includes(value), `${series}{${label}${op}"${value}"}: no series has ${label}="${value}"`);
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
    assert.deepEqual(Object.keys(DOCUMENTED).filter((m) => !charted.has(m)), [], 'gateway metrics on no panel');
    for (const { title, expr } of exprs) {
      for (const name of seriesNames(expr)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        if (DOCUMENTED[base]?.labels.tenant === undefined) continue;
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
