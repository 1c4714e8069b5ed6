// Graph-level permissions through a real gateway and the SDK client: tenant graph
// rules in the registry, a token's `graphs` claim, the intersection of both, and
// the CLI that changes them while the gateway runs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { decodeJwt } from 'jose';
import type { RunningGateway } from '../src/main.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import { stateKeys } from '../src/state/keys.js';
import { tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { openRawSse } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient, mustCall, type ToolOutcome } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let graphs: GraphClient;
let cliEnv: Record<string, string>;
const clients: Client[] = [];

before(async () => {
  db = await startTestFalkorDB();
  const keyFile = await writeSigningKey(await tempDir('graph-permissions-'));
  gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' });
  graphs = new GraphClient(gateway.database.db);
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent' };
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await db?.cleanup();
});

async function clientWith(token: string): Promise<Client> {
  const client = await connectClient('http', gateway.url, token);
  clients.push(client);
  return client;
}

async function clientOf(tenant: string, claims: Record<string, unknown> = {}, scope = 'read write admin'): Promise<Client> {
  return clientWith(await signTestToken(tenant, { scope, claims }));
}

/** Creates a graph of `tenant` straight in the database, whatever the rules say. */
async function createGraph(tenant: string, graph: string): Promise<void> {
  await graphs.query({ key: tenantGraphKey(tenant, graph), query: 'CREATE (:Seed {name: $name})', params: { name: graph }, readOnly: false, timeoutMs: 5000, maxRows: 10 });
}

async function graphExists(tenant: string, graph: string): Promise<boolean> {
  return (await graphs.listKeys(tenantKeyPrefix(tenant))).includes(tenantGraphKey(tenant, graph));
}

const read = (graphName: string) => ['falkordb_query', { graphName, query: 'MATCH (n) RETURN count(n) AS n' }] as const;
const write = (graphName: string) => ['falkordb_query', { graphName, query: 'CREATE (:Written) RETURN 1 AS one' }] as const;
const schema = (graphName: string) => ['falkordb_graph_schema', { graphName }] as const;
const remove = (graphName: string) => ['falkordb_delete_graph', { graphName }] as const;

async function refused(client: Client, [tool, args]: readonly [string, Record<string, unknown>]): Promise<{ code: string; message: string }> {
  const outcome: ToolOutcome = await callTool(client, tool, args);
  assert.equal(outcome.ok, false, `${tool} ${JSON.stringify(args)} should be refused, got ${outcome.text}`);
  return outcome.error!;
}

async function listed(client: Client): Promise<string[]> {
  return ((await mustCall(client, 'falkordb_list_graphs'))['graphs'] as string[]).slice().sort();
}

/** Retries `check` until it passes: registry changes reach a running gateway within its cache time. */
async function eventually(check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('a token limited to reports_*', () => {
  const tenant = 'gp-ci';
  let ci: Client;

  before(async () => {
    await createGraph(tenant, 'sales');
    await createGraph(tenant, 'reports_q1');
    await createGraph(tenant, 'reports_tmp');
    ci = await clientOf(tenant, { graphs: ['reports_*'] });
  });

  it('cannot read, write, schema-inspect or delete sales, and each refusal names the token claim and the scope', async () => {
    for (const [call, scope] of [[read('sales'), 'read'], [write('sales'), 'read'], [schema('sales'), 'read'], [remove('sales'), 'admin']] as const) {
      const error = await refused(ci, call);
      assert.equal(error.code, 'GRAPH_FORBIDDEN', error.message);
      assert.match(error.message, new RegExp(`needs "${scope}" on graph "sales"`));
      assert.match(error.message, /"graphs" claim limits it to graphs matching: reports_\*/);
    }
    assert.equal(await graphExists(tenant, 'sales'), true, 'sales is untouched');
    const count = await mustCall(await clientOf(tenant), ...read('sales'));
    assert.deepEqual(count['rows'], [{ n: 1 }], 'nothing was written to sales');
  });

  it('does not see sales in the list, and sees its reports graphs', async () => {
    assert.deepEqual(await listed(ci), ['reports_q1', 'reports_tmp']);
    assert.deepEqual(await listed(await clientOf(tenant)), ['reports_q1', 'reports_tmp', 'sales'], 'an unrestricted token of the tenant sees all three');
  });

  it('does not count sales in falkordb_health either', async () => {
    assert.equal((await mustCall(ci, 'falkordb_health'))['graphCount'], 2);
    assert.equal((await mustCall(await clientOf(tenant), 'falkordb_health'))['graphCount'], 3);
  });

  it('can read, write, inspect and delete reports graphs', async () => {
    assert.deepEqual((await mustCall(ci, ...write('reports_q1')))['rows'], [{ one: 1 }]);
    assert.deepEqual((await mustCall(ci, ...read('reports_q1')))['rows'], [{ n: 2 }]);
    assert.ok(((await mustCall(ci, ...schema('reports_q1')))['labels'] as Array<{ name: string }>).some((l) => l.name === 'Written'));
    assert.equal((await mustCall(ci, ...remove('reports_tmp')))['deleted'], true);
    assert.equal(await graphExists(tenant, 'reports_tmp'), false);
  });

  it('is refused the same way whether the graph exists or not, naming no other graph', async () => {
    const missing = await refused(ci, read('sales_nonexistent'));
    const present = await refused(ci, read('sales'));
    assert.equal(missing.code, present.code);
    assert.equal(missing.message.replace('sales_nonexistent', 'sales'), present.message, 'the refusal says nothing about existence');
    for (const error of [missing, present]) {
      assert.doesNotMatch(error.message.replace(/graph "sales(_nonexistent)?"/, ''), /sales/, 'no hidden graph is named');
    }
  });

  it('is counted and audited as a denial with the graph rule reason', async () => {
    await refused(ci, read('sales'));
    await gateway.state.audit.flush();
    const events = (await gateway.state.store.command(['XRANGE', stateKeys.tenantAudit(tenant), '-', '+'])) as Array<[string, string[]]>;
    const denied = events.map(([, flat]) => flat).filter((flat) => flat.includes('GRAPH_FORBIDDEN'));
    assert.ok(denied.length > 0, 'the refusal is in the audit trail');
    assert.equal(denied[0]![denied[0]!.indexOf('event') + 1], 'denied');
    const metrics = await (await fetch(gateway.metricsUrl!)).text();
    assert.match(metrics, /falkordb_gateway_denied_total\{reason="graph"\} [1-9]/);
  });
});

describe('tenant rules read *, write sales_*, admin none', () => {
  const tenant = 'gp-rules';
  let client: Client;

  before(async () => {
    await gateway.state.tenants.add({ id: tenant, graphRules: { read: ['*'], write: ['sales_*'], admin: [] } });
    await createGraph(tenant, 'reports');
    client = await clientOf(tenant);
  });

  it('allows writes to sales_* graphs only, and reads everywhere', async () => {
    assert.deepEqual((await mustCall(client, ...write('sales_eu')))['rows'], [{ one: 1 }]);
    const error = await refused(client, write('reports'));
    assert.equal(error.code, 'GRAPH_FORBIDDEN');
    assert.match(error.message, /Writing to a graph needs "write" on graph "reports", which your tenant's graph rule for "write" does not allow/);
    assert.doesNotMatch(error.message, /sales/, 'the tenant patterns are not shown');
    assert.deepEqual((await mustCall(client, ...read('reports')))['rows'], [{ n: 1 }], 'nothing was written to reports');
    assert.deepEqual(await listed(client), ['reports', 'sales_eu']);
  });

  it('says which rule refused a write even when readOnly was asked for', async () => {
    const error = await refused(client, ['falkordb_query', { graphName: 'reports', query: 'CREATE (:X)', readOnly: true }]);
    assert.equal(error.code, 'GRAPH_FORBIDDEN', error.message);
  });

  it('refuses deletes everywhere (admin none), even with the admin scope', async () => {
    const error = await refused(client, remove('sales_eu'));
    assert.equal(error.code, 'GRAPH_FORBIDDEN');
    assert.match(error.message, /needs "admin" on graph "sales_eu", which your tenant's graph rule for "admin"/);
    assert.equal(await graphExists(tenant, 'sales_eu'), true);
  });

  it('still refuses a token without the write scope for the scope, before any graph rule', async () => {
    const reader = await clientOf(tenant, {}, 'read');
    const error = await refused(reader, write('sales_eu'));
    assert.equal(error.code, 'SCOPE_MISSING');
  });
});

describe('the intersection of a tenant rule and a token claim', () => {
  const tenant = 'gp-both';
  let client: Client;

  before(async () => {
    await gateway.state.tenants.add({ id: tenant, graphRules: { write: ['sales_*'] } });
    for (const graph of ['sales_eu1', 'sales_us', 'reports_x', 'other']) await createGraph(tenant, graph);
    client = await clientOf(tenant, { graphs: ['sales_eu*', 'reports_*'] });
  });

  it('writes only where both allow, and names the rule that refused', async () => {
    await mustCall(client, ...write('sales_eu1'));
    const byToken = await refused(client, write('sales_us'));
    assert.equal(byToken.code, 'GRAPH_FORBIDDEN');
    assert.match(byToken.message, /needs "read" on graph "sales_us", but this token's "graphs" claim/);
    const byTenant = await refused(client, write('reports_x'));
    assert.match(byTenant.message, /tenant's graph rule for "write"/);
    assert.doesNotMatch(byTenant.message, /claim/, 'the token claim allows reports_x');
  });

  it('reads where the token claim allows (the tenant has no read rule), and lists only those', async () => {
    await mustCall(client, ...read('reports_x'));
    assert.deepEqual(await listed(client), ['reports_x', 'sales_eu1']);
    const error = await refused(client, read('other'));
    assert.match(error.message, /"graphs" claim/);
  });
});

describe('graph rights over the legacy SSE transport', () => {
  const tenant = 'gp-sse';

  before(async () => {
    await createGraph(tenant, 'sales');
    await createGraph(tenant, 'reports_q1');
  });

  it('applies the token claim inside an SSE session', async () => {
    const client = await connectClient('sse-header', gateway.url, await signTestToken(tenant, { claims: { graphs: ['reports_*'] } }));
    clients.push(client);
    assert.deepEqual(await listed(client), ['reports_q1']);
    assert.equal((await refused(client, read('sales'))).code, 'GRAPH_FORBIDDEN');
  });

  it('refuses a post to a session opened by a token that covers more graphs', async () => {
    const { endpoint, close } = await openRawSse(gateway.url, await signTestToken(tenant));
    try {
      const narrow = await signTestToken(tenant, { claims: { graphs: ['reports_*'] } });
      const post = await fetch(`${gateway.url}${endpoint}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${narrow}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'falkordb_query', arguments: { graphName: 'sales', query: 'MATCH (n) RETURN n' } } }),
      });
      assert.equal(post.status, 403);
      const body = (await post.json()) as { code: string; message: string };
      assert.equal(body.code, 'SESSION_FORBIDDEN');
      assert.match(body.message, /limited to fewer graphs/);
    } finally {
      close();
    }
  });
});

describe('a token whose graphs claim cannot be read', () => {
  it('is refused outright rather than treated as unlimited', async () => {
    const token = await signTestToken('gp-bad-claim', { claims: { graphs: ['sales/*'] } });
    const res = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'TOKEN_CLAIM_INVALID');
    assert.match(body.message, /"graphs" claim/);
  });
});

describe('tenant grant and revoke', () => {
  const tenant = 'gp-cli';
  let client: Client;

  before(async () => {
    const added = await runCli(['tenant', 'add', tenant], cliEnv);
    assert.equal(added.code, 0, added.stderr);
    for (const graph of ['sales_a', 'reports']) await createGraph(tenant, graph);
    client = await clientOf(tenant);
  });

  it('takes effect on a running gateway', async () => {
    await mustCall(client, ...write('reports'));
    const granted = await runCliJson<{ tenant: string; scope: string; graphRules: Record<string, string[]> }>(['tenant', 'grant', tenant, '--scope', 'write', '--graphs', 'sales_*', '--json'], cliEnv);
    assert.deepEqual(granted, { tenant, scope: 'write', graphRules: { write: ['sales_*'] } });
    await eventually(async () => assert.equal((await refused(client, write('reports'))).code, 'GRAPH_FORBIDDEN'));
    await mustCall(client, ...write('sales_a'));

    const revoked = await runCli(['tenant', 'revoke', tenant, '--scope', 'write', '--graphs', 'sales_*'], cliEnv);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /"write" is now allowed on no graph \(before: sales_\*\)/);
    await eventually(async () => assert.equal((await refused(client, write('sales_a'))).code, 'GRAPH_FORBIDDEN'));

    const human = await runCli(['tenant', 'grant', tenant, '--scope', 'read', '--graphs', 'reports,reports_*', '--graphs', 'x*'], cliEnv);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /"read" is now allowed on graphs matching: reports, reports_\*, x\* \(before: every graph\)/);
    await eventually(async () => assert.deepEqual(await listed(client), ['reports']));
  });

  it('shows the rules in tenant show and tenant list', async () => {
    await gateway.state.tenants.add({ id: 'gp-shown', graphRules: { read: ['*'], write: ['sales_*'], admin: [] } });
    const shown = await runCli(['tenant', 'show', 'gp-shown'], cliEnv);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /graph rules: read: \*; write: sales_\*; admin: none/);
    const json = await runCliJson<{ graphRules: unknown }>(['tenant', 'show', 'gp-shown', '--json'], cliEnv);
    assert.deepEqual(json.graphRules, { read: ['*'], write: ['sales_*'], admin: [] });
    const list = await runCli(['tenant', 'list'], cliEnv);
    assert.match(list.stdout, /GRAPH RULES/);
    assert.match(list.stdout, /gp-shown .*read: \*; write: sales_\*; admin: none/);
    const listJson = await runCliJson<{ tenants: Array<{ id: string; graphRules?: unknown }> }>(['tenant', 'list', '--json'], cliEnv);
    assert.deepEqual(listJson.tenants.find((t) => t.id === 'gp-shown')?.graphRules, { read: ['*'], write: ['sales_*'], admin: [] });
  });

  it('refuses bad patterns, scopes and revokes with one clear line, changing nothing', async () => {
    const before = await gateway.state.tenants.get(tenant);
    const cases: Array<[string[], number, RegExp]> = [
      [['tenant', 'grant', tenant, '--scope', 'write', '--graphs', 'sales/*'], 2, /--graphs: "sales\/\*" is not allowed: use a graph name in which `\*` stands for any run/],
      [['tenant', 'grant', tenant, '--scope', 'delete', '--graphs', 'x'], 2, /--scope must be one of read, write, admin/],
      [['tenant', 'grant', tenant, '--scope', 'write', '--graphs', ','], 2, /--graphs needs at least one graph pattern/],
      [['tenant', 'revoke', tenant, '--scope', 'read', '--graphs', 'nothing_*'], 2, /Cannot revoke nothing_\*: its "read" rule lists: reports, reports_\*, x\*/],
      [['tenant', 'grant', 'gp-nobody', '--scope', 'read', '--graphs', 'x'], 1, /No tenant "gp-nobody" is registered/],
    ];
    for (const [args, code, message] of cases) {
      const done = await runCli(args, cliEnv);
      assert.equal(done.code, code, `${args.join(' ')}: ${done.stderr}`);
      assert.match(done.stderr, /^falkordb-mcp-gateway: [^\n]+\n$/);
      assert.match(done.stderr, message);
    }
    assert.deepEqual((await gateway.state.tenants.get(tenant))?.graphRules, before?.graphRules);
  });
});

describe('token issue --graphs', () => {
  const tenant = 'gp-issued';

  before(async () => {
    await createGraph(tenant, 'sales');
    await createGraph(tenant, 'reports_q1');
  });

  it('issues a token limited to the patterns, repeatable or comma-separated, that the gateway enforces', async () => {
    const issued = await runCliJson<{ access_token: string; refresh_token: string; graphs: string[] }>(
      ['token', 'issue', '--tenant', tenant, '--graphs', 'reports_*', '--graphs', 'a_*,b', '--json'],
      cliEnv,
    );
    assert.deepEqual(issued.graphs, ['reports_*', 'a_*', 'b']);
    assert.deepEqual(decodeJwt(issued.access_token)['graphs'], ['reports_*', 'a_*', 'b']);
    const client = await clientWith(issued.access_token);
    assert.deepEqual(await listed(client), ['reports_q1']);
    assert.equal((await refused(client, read('sales'))).code, 'GRAPH_FORBIDDEN');

    const inspected = await runCli(['token', 'inspect', issued.access_token], cliEnv);
    assert.match(inspected.stdout, /graphs:\s+reports_\* a_\* b/);
    const listedTokens = await runCli(['token', 'list', '--tenant', tenant], cliEnv);
    assert.match(listedTokens.stdout, /GRAPHS/);
    assert.match(listedTokens.stdout, /reports_\*,a_\*,b/);

    // A refreshed token covers no more graphs than the first.
    const next = await runCliJson<{ access_token: string; graphs: string[] }>(['token', 'refresh', '-'], cliEnv, issued.refresh_token);
    assert.deepEqual(decodeJwt(next.access_token)['graphs'], ['reports_*', 'a_*', 'b']);
    assert.equal((await refused(await clientWith(next.access_token), read('sales'))).code, 'GRAPH_FORBIDDEN');
  });

  it('leaves the claim out without --graphs', async () => {
    const token = (await runCli(['token', 'issue', '--tenant', tenant], cliEnv)).stdout.trim();
    assert.equal(decodeJwt(token)['graphs'], undefined);
    assert.deepEqual(await listed(await clientWith(token)), ['reports_q1', 'sales']);
  });

  it('refuses a bad pattern with exit code 2 and issues nothing', async () => {
    const done = await runCli(['token', 'issue', '--tenant', tenant, '--graphs', '_hidden'], cliEnv);
    assert.equal(done.code, 2);
    assert.equal(done.stdout, '');
    assert.match(done.stderr, /^falkordb-mcp-gateway: --graphs: "_hidden" is not allowed/);
  });
});
