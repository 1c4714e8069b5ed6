// How tool calls fail, through real MCP clients against a real FalkorDB: a
// query that does not write never creates a graph, a write refusal does not
// depend on the graph existing, and every failure (bad arguments, database
// errors, parameters nested too deep, a bug) has the documented shape, an
// audit record and, for a bug, one log line.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CONFIG_VARIABLES } from '../src/config/index.js';
import type { RunningGateway } from '../src/main.js';
import { MAX_PARAMETER_DEPTH } from '../src/falkordb/params.js';
import { stateKeys } from '../src/state/keys.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { documentedMessages } from './support/docs.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { seedGraph } from './support/graphs.js';
import { callTool, connectClient, mustCall, type TransportKind } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
const log = captureLog();
const clients: Client[] = [];

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url, {}, log.stream);
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await db?.cleanup();
});

async function clientOf(tenant: string, scope = 'read write admin', kind: Exclude<TransportKind, 'stdio'> = 'http'): Promise<Client> {
  const client = await connectClient(kind, gateway.url, await signTestToken(tenant, { scope }));
  // The SDK client checks structuredContent against the tools' output schemas once it has listed them.
  await client.listTools();
  clients.push(client);
  return client;
}

async function graphKeyExists(tenant: string, graph: string): Promise<boolean> {
  return (await gateway.database.db.sendCommand(['EXISTS', tenantGraphKey(tenant, graph)])) === 1;
}

/** The tenant's audit events, as field maps. */
async function auditEvents(tenant: string): Promise<Array<Record<string, string>>> {
  await gateway.state.audit.flush();
  const reply = (await gateway.state.store.command(['XRANGE', stateKeys.tenantAudit(tenant), '-', '+'])) as Array<[string, string[]]>;
  return reply.map(([, flat]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!])));
}

/** A tool call's raw result, which must be a failure in the documented shape; returns its error. */
async function failure(client: Client, name: string, args: Record<string, unknown>): Promise<{ code: string; message: string }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  assert.equal(result.isError, true, JSON.stringify(result));
  assert.equal(result.content.length, 1);
  const block = result.content[0]!;
  assert.equal(block.type, 'text');
  const parsed = JSON.parse(block.type === 'text' ? block.text : '') as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(parsed), ['error']);
  assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'message']);
  assert.deepEqual(result.structuredContent, parsed, 'structuredContent is the same JSON as the text');
  return parsed.error;
}

describe('a query that does not write', () => {
  it('never creates a graph, even with the write scope: GRAPH_NOT_FOUND, as with readOnly: true', async () => {
    const client = await clientOf('te-reads');
    for (const query of ['MATCH (n) RETURN n', 'RETURN 1', 'CALL db.labels()', 'MATCH (n) RETRN n']) {
      for (const readOnly of [undefined, true]) {
        const error = await failure(client, 'falkordb_query', { graphName: 'ghost', query, ...(readOnly === undefined ? {} : { readOnly }) });
        assert.equal(error.code, 'GRAPH_NOT_FOUND', `${query}: ${error.message}`);
        assert.equal(error.message, 'Graph "ghost" does not exist. falkordb_list_graphs lists your graphs; a write query creates a new one.');
      }
    }
    assert.equal(await graphKeyExists('te-reads', 'ghost'), false, 'no key was created');
    assert.deepEqual((await mustCall(client, 'falkordb_list_graphs'))['graphs'], []);
  });

  it('reads a graph that exists, and a write still creates a new one', async () => {
    const client = await clientOf('te-writes');
    const created = await mustCall(client, 'falkordb_query', { graphName: 'fresh', query: "CREATE (:City {name: 'Oslo'})" });
    assert.equal((created['stats'] as Record<string, number>)['nodesCreated'], 1);
    assert.deepEqual((await mustCall(client, 'falkordb_list_graphs'))['graphs'], ['fresh']);
    const read = await mustCall(client, 'falkordb_query', { graphName: 'fresh', query: 'MATCH (c:City) RETURN c.name AS name' });
    assert.deepEqual(read['rows'], [{ name: 'Oslo' }]);
  });

  it('has its documented GRAPH_NOT_FOUND message', async () => {
    const error = await failure(await clientOf('te-docs'), 'falkordb_query', { graphName: 'sales', query: 'MATCH (n) RETURN n' });
    assert.ok(documentedMessages('GRAPH_NOT_FOUND').includes(error.message), error.message);
  });
});

describe('a write the caller may not make, on a graph that does not exist', () => {
  it('is GRAPH_FORBIDDEN under a tenant graph rule, exactly as on a graph that exists', async () => {
    const tenant = 'te-rules';
    await gateway.state.tenants.add({ id: tenant, graphRules: { write: ['sales_*'] } });
    await seedGraph(gateway, tenant, 'reports');
    const client = await clientOf(tenant);
    const write = (graphName: string) => failure(client, 'falkordb_query', { graphName, query: 'CREATE (:Row) RETURN 1 AS one' });
    const onExisting = await write('reports');
    const onMissing = await write('reports_new');
    assert.equal(onExisting.code, 'GRAPH_FORBIDDEN');
    assert.equal(onMissing.code, 'GRAPH_FORBIDDEN', onMissing.message);
    assert.equal(onMissing.message, onExisting.message.replace('"reports"', '"reports_new"'));
    assert.equal(await graphKeyExists(tenant, 'reports_new'), false);
    await mustCall(client, 'falkordb_query', { graphName: 'sales_new', query: 'CREATE (:Row)' });
  });

  it('is SCOPE_MISSING for a token without write, and QUERY_FORBIDDEN with readOnly: true', async () => {
    const reader = await clientOf('te-scope', 'read');
    assert.equal((await failure(reader, 'falkordb_query', { graphName: 'new', query: 'CREATE (:Row)' })).code, 'SCOPE_MISSING');
    const writer = await clientOf('te-scope');
    assert.equal((await failure(writer, 'falkordb_query', { graphName: 'new', query: 'CREATE (:Row)', readOnly: true })).code, 'QUERY_FORBIDDEN');
    assert.equal(await graphKeyExists('te-scope', 'new'), false);
  });
});

describe('arguments that break the input schema', () => {
  it('get INVALID_ARGUMENT naming the field and the rule, in the documented shape', async () => {
    const client = await clientOf('te-args');
    const missing = await failure(client, 'falkordb_query', { graphName: 'g' });
    assert.equal(missing.code, 'INVALID_ARGUMENT');
    assert.match(missing.message, /^Invalid arguments for falkordb_query: query: required, a string\./);
    const notBoolean = await failure(client, 'falkordb_query', { graphName: 'g', query: 'RETURN 1', readOnly: 'yes' });
    assert.equal(notBoolean.code, 'INVALID_ARGUMENT');
    assert.ok(documentedMessages('INVALID_ARGUMENT').includes(notBoolean.message), notBoolean.message);
    const several = await failure(client, 'falkordb_query', { graphName: 7, query: '', timeoutMs: 1.5 });
    assert.match(several.message, /graphName: expected a string; query: must not be empty; timeoutMs: expected an integer\./);
    const schema = await failure(client, 'falkordb_graph_schema', {});
    assert.match(schema.message, /graphName: required, a string/);
    const unknown = await failure(client, 'falkordb_nosuch', {});
    assert.equal(unknown.code, 'INVALID_ARGUMENT');
  });

  it('are audited as failed calls of the tool', async () => {
    const client = await clientOf('te-args-audit');
    await failure(client, 'falkordb_query', { graphName: 'g', query: 'RETURN 1', readOnly: 'yes' });
    const events = await auditEvents('te-args-audit');
    assert.deepEqual(
      events.map((e) => [e['event'], e['tool'], e['graph'], e['errorCode']]),
      [['query_error', 'falkordb_query', 'g', 'INVALID_ARGUMENT']],
    );
  });
});

describe('QUERY_FAILED', () => {
  it('gives the place of a syntax error instead of FalkorDB\'s raw text, as the docs show', async () => {
    const client = await clientOf('te-syntax');
    await seedGraph(gateway, 'te-syntax', 'g');
    const error = await failure(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETRN n', parameters: { secret: 'param-marker' } });
    assert.equal(error.code, 'QUERY_FAILED');
    assert.equal(error.message, "Invalid input 'R' at position 13 (line 1, column 14): expected RETURN");
    const documented = documentedMessages('QUERY_FAILED');
    assert.ok(documented.includes(error.message), `${error.message} is not in docs/troubleshooting.md: ${documented.join(' | ')}`);
    const unknown = await failure(client, 'falkordb_query', { graphName: 'g', query: 'RETURN foo(1)' });
    assert.ok(documented.includes(unknown.message), unknown.message);
  });
});

describe('parameters nested too deep', () => {
  /** A client whose POSTs carry `deep` in place of the string "DEEP": the SDK cannot serialise such nesting itself. */
  async function clientSending(tenant: string, deep: string): Promise<Client> {
    const token = await signTestToken(tenant);
    const client = new Client({ name: 'deep-sender', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
        fetch: (url, init) => fetch(url, typeof init?.body === 'string' ? { ...init, body: init.body.replace('"DEEP"', deep) } : init),
      }),
    );
    await client.listTools();
    clients.push(client);
    return client;
  }

  it(`are PARAMETERS_INVALID naming the limit of ${MAX_PARAMETER_DEPTH}, and audited, even as deep as the body limit allows`, async () => {
    const tenant = 'te-deep';
    await seedGraph(gateway, tenant, 'g');
    // The deepest list that fits the default body limit (1 MiB) in this call's body.
    const envelope = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'falkordb_query', arguments: { graphName: 'g', query: 'RETURN $p', parameters: { p: '' } } } });
    const maxBodyBytes = Number(CONFIG_VARIABLES.find((v) => v.name === 'MAX_BODY_BYTES')?.default);
    const levels = Math.floor((maxBodyBytes - envelope.length - 16) / 2);
    assert.ok(levels > 500_000, `${levels} levels`);
    const client = await clientSending(tenant, `${'['.repeat(levels)}${']'.repeat(levels)}`);
    const shallow = await clientOf(tenant);
    let nested: unknown = 1;
    for (let i = 0; i <= MAX_PARAMETER_DEPTH; i++) nested = [nested];
    for (const [who, parameters] of [[client, { p: 'DEEP' }], [shallow, { p: nested }]] as const) {
      const error = await failure(who, 'falkordb_query', { graphName: 'g', query: 'RETURN $p', parameters });
      assert.equal(error.code, 'PARAMETERS_INVALID', error.message);
      assert.ok(documentedMessages('PARAMETERS_INVALID').includes(error.message), error.message);
    }
    const events = await auditEvents(tenant);
    assert.deepEqual(events.map((e) => [e['event'], e['errorCode']]), [['query_error', 'PARAMETERS_INVALID'], ['query_error', 'PARAMETERS_INVALID']]);
    assert.ok(!log.text().includes('Maximum call stack'));
  });
});

describe('an unexpected error inside a tool', () => {
  // A date FalkorDB holds but JavaScript's Date cannot: shaping it for JSON throws a plain Error (no GatewayError).
  const query = 'WITH $marker AS marker RETURN date({year: 999999}) AS d';

  for (const kind of ['http', 'sse-header'] as const) {
    it(`is INTERNAL to the caller and in the audit, and logged once with the request id and stack, over ${kind}`, async () => {
      const tenant = `te-bug-${kind}`;
      await seedGraph(gateway, tenant, 'g');
      const client = await clientOf(tenant, 'read write admin', kind);
      const marker = `marker-${kind}-${Date.now()}`;
      const error = await failure(client, 'falkordb_query', { graphName: 'g', query, parameters: { marker } });
      assert.equal(error.code, 'INTERNAL');
      assert.ok(documentedMessages('INTERNAL').includes(error.message), error.message);
      assert.deepEqual((await auditEvents(tenant)).map((e) => e['errorCode']), ['INTERNAL']);

      const lines = log.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      const logged = lines.filter((l) => l['msg'] === 'tool call failed unexpectedly' && l['tenant'] === tenant);
      assert.equal(logged.length, 1, 'one log line');
      const line = logged[0]!;
      assert.equal(line['level'], 50, 'at error level');
      assert.equal(line['tool'], 'falkordb_query');
      const err = line['err'] as { type: string; message: string; stack: string };
      assert.equal(err.type, 'Error', err.message);
      assert.match(err.message, /out of range/);
      assert.match(err.stack, /\n\s+at /, 'with the stack');
      const requestIds = lines.filter((l) => l['msg'] === 'request' && l['tenant'] === tenant).map((l) => l['requestId']);
      assert.ok(requestIds.includes(line['requestId']), `the request id ${String(line['requestId'])} is that of an HTTP request of the call`);
      assert.ok(!log.text().includes(marker), 'no parameter value in the log');
      // The caller's next call is served as usual.
      assert.deepEqual((await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'RETURN 1 AS one' }))['rows'], [{ one: 1 }]);
    });
  }
});

describe('callTool of the test helpers', () => {
  it('reads the code of every failure now that all have the JSON shape', async () => {
    const out = await callTool(await clientOf('te-helper'), 'falkordb_query', { graphName: 'g' });
    assert.equal(out.error?.code, 'INVALID_ARGUMENT');
  });
});
