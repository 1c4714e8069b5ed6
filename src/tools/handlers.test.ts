// The tool handlers over an in-memory GraphOperations: what each sends to the
// database, what it refuses before sending anything, and the result or tool
// error the caller gets. test/tools.test.ts runs the same tools on a real FalkorDB.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { GatewayError } from '../errors.js';
import { EMPTY_SCHEMA, FakeGraphOps } from '../../test/unit/fake-graph-ops.js';
import { principalOf, unitCalls, UNIT_QUERY_LIMITS } from '../../test/unit/tool-context.js';
import { createConstraintTool, dropConstraintTool } from './constraints.js';
import { deleteGraphTool } from './delete-graph.js';
import { explainTool } from './explain.js';
import { graphSchemaTool } from './graph-schema.js';
import { healthTool } from './health.js';
import { listGraphsTool } from './list-graphs.js';
import { queryTool } from './query.js';
import { readQueryTool } from './read-query.js';
import { serverInfoTool } from './server-info.js';

function structured(result: CallToolResult): Record<string, unknown> {
  assert.notEqual(result.isError, true, `expected success, got ${JSON.stringify(result.structuredContent)}`);
  return result.structuredContent as Record<string, unknown>;
}

function failure(result: CallToolResult): { code: string; message: string } {
  assert.equal(result.isError, true, `expected a tool error, got ${JSON.stringify(result.structuredContent)}`);
  return (result.structuredContent as { error: { code: string; message: string } }).error;
}

describe('falkordb_query over a fake database', () => {
  it("runs a read with GRAPH.RO_QUERY on the caller's key, its time limit capped by the server's", async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    ctx.graphs.answer = () => ({ columns: ['n'], rows: [{ n: 1 }] });
    const result = structured(await ctx.call(queryTool, { graphName: 'movies', query: 'RETURN 1 AS n', timeoutMs: 999_999 }));
    assert.deepEqual(result.rows, [{ n: 1 }]);
    assert.equal(result.graph, 'movies');
    const [sent] = ctx.graphs.queries;
    assert.equal(ctx.graphs.queries.length, 1);
    assert.equal(sent?.key, 'acme_movies');
    assert.equal(sent?.readOnly, true);
    assert.equal(sent?.timeoutMs, UNIT_QUERY_LIMITS.timeoutMs);
    assert.equal(sent?.params, undefined);
  });

  it('sends a write as GRAPH.QUERY and records it as a write when the statistics show a change', async () => {
    const ctx = unitCalls();
    ctx.graphs.answer = () => ({ stats: { nodesCreated: 1 } });
    structured(await ctx.call(queryTool, { graphName: 'movies', query: 'CREATE (:Movie {title: $t})', parameters: { t: 'Heat' } }));
    assert.equal(ctx.graphs.queries[0]?.readOnly, false);
    assert.deepEqual(ctx.graphs.queries[0]?.params, { t: 'Heat' });
    assert.equal(ctx.records.length, 1);
    assert.equal(ctx.records[0]?.write, true);
    assert.equal(ctx.records[0]?.outcome, 'success');
  });

  it('runs again as a write a query FalkorDB refused read-only although its words do not say it writes', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    ctx.graphs.answer = () => ({ writes: true });
    structured(await ctx.call(queryTool, { graphName: 'movies', query: 'MATCH (n) RETURN n' }));
    assert.deepEqual(
      ctx.graphs.queries.map((q) => q.readOnly),
      [true, false],
    );
  });

  it('refuses a write with SCOPE_MISSING for a read-only token, and never sends it as a write', async () => {
    const ctx = unitCalls({ principal: principalOf('acme', ['read']), graphs: new FakeGraphOps(['acme_movies']) });
    ctx.graphs.answer = (q) => ({ writes: /CREATE/.test(q.query) });
    const error = failure(await ctx.call(queryTool, { graphName: 'movies', query: 'CREATE (:Movie)' }));
    assert.equal(error.code, 'SCOPE_MISSING');
    assert.ok(ctx.graphs.queries.every((q) => q.readOnly), 'no query went out as GRAPH.QUERY');
  });

  it('refuses a write with QUERY_FORBIDDEN when readOnly: true was asked', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    ctx.graphs.answer = () => ({ writes: true });
    const error = failure(await ctx.call(queryTool, { graphName: 'movies', query: 'CREATE (:Movie)', readOnly: true }));
    assert.equal(error.code, 'QUERY_FORBIDDEN');
  });

  it('says a graph that does not exist does not exist, by the caller\'s name, and that a write creates it', async () => {
    const ctx = unitCalls();
    const error = failure(await ctx.call(queryTool, { graphName: 'nothing', query: 'MATCH (n) RETURN n' }));
    assert.equal(error.code, 'GRAPH_NOT_FOUND');
    assert.match(error.message, /Graph "nothing" does not exist.*a write query creates a new one/);
    assert.doesNotMatch(error.message, /acme_/);
    assert.equal(ctx.graphs.graphs.size, 0, 'a read created no graph');
  });

  it('refuses a query over the length limit before anything is sent', async () => {
    const ctx = unitCalls({ limits: { ...UNIT_QUERY_LIMITS, maxQueryLength: 10 } });
    const error = failure(await ctx.call(queryTool, { graphName: 'movies', query: 'RETURN 1 AS one, 2 AS two' }));
    assert.equal(error.code, 'QUERY_TOO_LONG');
    assert.equal(ctx.graphs.queries.length, 0);
  });

  it('refuses a bad graph name with GRAPH_NAME_INVALID before anything is sent', async () => {
    const ctx = unitCalls();
    const error = failure(await ctx.call(queryTool, { graphName: '../other', query: 'RETURN 1' }));
    assert.equal(error.code, 'GRAPH_NAME_INVALID');
    assert.equal(ctx.graphs.queries.length, 0);
  });

  it('returns the whole rows that fit in MAX_RESULT_BYTES, marked truncated', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']), limits: { ...UNIT_QUERY_LIMITS, maxResultBytes: 2048 } });
    const rows = Array.from({ length: 100 }, (_, i) => ({ i, text: 'x'.repeat(50) }));
    ctx.graphs.answer = () => ({ columns: ['i', 'text'], rows });
    const result = structured(await ctx.call(queryTool, { graphName: 'movies', query: 'UNWIND range(1, 100) AS i RETURN i' }));
    assert.equal(result.truncated, true);
    assert.ok((result.rows as unknown[]).length > 0 && (result.rows as unknown[]).length < rows.length);
    assert.equal(result.rowCount, (result.rows as unknown[]).length);
  });
});

describe('falkordb_list_graphs over a fake database', () => {
  it("lists the caller's graphs only, prefix removed", async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies', 'acme_people', 'other_secret', 'acmex_movies']) });
    const result = structured(await ctx.call(listGraphsTool, {}));
    assert.deepEqual([...(result.graphs as string[])].sort(), ['movies', 'people']);
  });

  it("leaves out the graphs the token's graphs claim does not cover", async () => {
    const ctx = unitCalls({ principal: principalOf('acme', ['read'], { graphs: ['movies'] }), graphs: new FakeGraphOps(['acme_movies', 'acme_people']) });
    assert.deepEqual(structured(await ctx.call(listGraphsTool, {})).graphs, ['movies']);
  });
});

describe('falkordb_delete_graph over a fake database', () => {
  it('needs the admin scope and deletes nothing without it', async () => {
    const ctx = unitCalls({ principal: principalOf('acme', ['write']), graphs: new FakeGraphOps(['acme_movies']) });
    assert.equal(failure(await ctx.call(deleteGraphTool, { graphName: 'movies' })).code, 'SCOPE_MISSING');
    assert.deepEqual(ctx.graphs.deletes, []);
  });

  it("deletes the caller's key, and says deleted: false when there was no such graph", async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    assert.deepEqual(structured(await ctx.call(deleteGraphTool, { graphName: 'movies' })), { graph: 'movies', deleted: true });
    assert.deepEqual(structured(await ctx.call(deleteGraphTool, { graphName: 'movies' })), { graph: 'movies', deleted: false });
    assert.deepEqual(ctx.graphs.deletes, ['acme_movies', 'acme_movies']);
  });
});

describe('falkordb_graph_schema over a fake database', () => {
  it("answers GRAPH_NOT_FOUND naming the caller's graph, not its key", async () => {
    const error = failure(await unitCalls().call(graphSchemaTool, { graphName: 'movies' }));
    assert.equal(error.code, 'GRAPH_NOT_FOUND');
    assert.match(error.message, /^Graph "movies" does not exist/);
  });

  it('returns the compact schema with the graph name, and the index internals only with detail: "full"', async () => {
    const ctx = unitCalls();
    const schema = {
      ...EMPTY_SCHEMA,
      labels: [{ name: 'Movie', count: 2, properties: ['title'] }],
      relationshipTypes: [{ name: 'ACTED_IN', count: 1, properties: [], endpoints: [{ from: 'Person', to: 'Movie' }] }],
      propertyKeys: ['title'],
      indexes: ['Movie.title range'],
      indexDetails: [{ label: 'Movie', info: { docTableSize: 1 } }],
    };
    ctx.graphs.graphs.set('acme_movies', schema);
    const { indexDetails, ...compact } = schema;
    assert.deepEqual(structured(await ctx.call(graphSchemaTool, { graphName: 'movies' })), { graph: 'movies', ...compact });
    assert.deepEqual(structured(await ctx.call(graphSchemaTool, { graphName: 'movies', detail: 'full' })), { graph: 'movies', ...compact, indexDetails });
  });
});

describe('falkordb_create_constraint and falkordb_drop_constraint over a fake database', () => {
  const spec = { kind: 'unique', entity: 'node', label: 'Person', properties: ['email'] } as const;
  const args = (graphName: string) => ({ graphName, ...spec, properties: [...spec.properties] });

  it("sends the constraint on the caller's key and answers with what was asked and what happened", async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_people']) });
    const created = structured(await ctx.call(createConstraintTool, args('people')));
    assert.deepEqual(created, { graph: 'people', ...spec, created: true, indexCreated: true, status: 'OPERATIONAL' });
    assert.equal(structured(await ctx.call(dropConstraintTool, args('people'))).dropped, true);
    assert.deepEqual(ctx.graphs.constraintChanges.map((c) => [c.action, c.key]), [['create', 'acme_people'], ['drop', 'acme_people']]);
  });

  it('needs the write scope and sends nothing without it', async () => {
    const ctx = unitCalls({ principal: principalOf('acme', ['read']), graphs: new FakeGraphOps(['acme_people']) });
    assert.equal(failure(await ctx.call(createConstraintTool, args('people'))).code, 'SCOPE_MISSING');
    assert.equal(failure(await ctx.call(dropConstraintTool, args('people'))).code, 'SCOPE_MISSING');
    assert.deepEqual(ctx.graphs.constraintChanges, []);
  });

  it('says GRAPH_NOT_FOUND in the words of the graph name for a drop on a missing graph', async () => {
    const error = failure(await unitCalls().call(dropConstraintTool, args('nowhere')));
    assert.equal(error.code, 'GRAPH_NOT_FOUND');
    assert.match(error.message, /^Graph "nowhere" does not exist/);
  });
});

describe('falkordb_health and falkordb_server_info over a fake database', () => {
  it('reports an unreachable database without failing, and counts no graphs then', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    ctx.graphs.reachable = false;
    const result = structured(await ctx.call(healthTool, {}));
    assert.deepEqual(result.database, { reachable: false, latencyMs: null, error: 'The database did not answer within 2 s.' });
    assert.equal(result.graphCount, null);
  });

  it('counts the graphs the caller may read while the database answers', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies', 'acme_people', 'other_x']) });
    const result = structured(await ctx.call(healthTool, {}));
    assert.equal(result.graphCount, 2);
    assert.equal((result.database as { reachable: boolean }).reachable, true);
  });

  it('names the gateway and its versions, and no rate or concurrency cap where no tenant figures are kept', async () => {
    const result = structured(await unitCalls().call(serverInfoTool, {}));
    assert.deepEqual(result.gateway, { name: 'falkordb-mcp-gateway', version: '0.0.0-test' });
    assert.deepEqual(result.falkordb, { version: '4.16.3' });
    assert.equal(result.tenant, 'acme');
    assert.equal(result.usageToday, null);
    assert.deepEqual({ ...(result.limits as object) }, {
      queryTimeoutMs: UNIT_QUERY_LIMITS.timeoutMs,
      maxRows: UNIT_QUERY_LIMITS.maxRows,
      maxQueryLength: UNIT_QUERY_LIMITS.maxQueryLength,
      loadCsvAllowed: false,
      ratePerMinute: 0,
      maxConcurrentQueries: 0,
    });
  });
});

describe('every tool call, over a fake database', () => {
  it('passes admission before touching the database: a refused call sends nothing and is recorded with its code', async () => {
    const ctx = unitCalls({
      graphs: new FakeGraphOps(['acme_movies']),
      admit: () => Promise.reject(new GatewayError('RATE_LIMITED', 'Too many requests.')),
    });
    assert.equal(failure(await ctx.call(queryTool, { graphName: 'movies', query: 'RETURN 1' })).code, 'RATE_LIMITED');
    assert.equal(ctx.graphs.queries.length, 0);
    assert.deepEqual(
      ctx.records.map((r) => [r.tool, r.outcome, r.errorCode]),
      [['falkordb_query', 'error', 'RATE_LIMITED']],
    );
  });

  it('turns an unexpected failure into INTERNAL for the caller and one log line with the request id for the operator', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    ctx.graphs.answer = () => {
      throw new TypeError('secret internals at acme_movies');
    };
    const error = failure(await ctx.call(queryTool, { graphName: 'movies', query: 'RETURN 1' }));
    assert.equal(error.code, 'INTERNAL');
    assert.doesNotMatch(error.message, /secret internals/);
    assert.equal(ctx.logLines.length, 1);
    assert.equal(ctx.logLines[0]?.requestId, 'req-1');
    assert.match(JSON.stringify(ctx.logLines[0]?.err), /secret internals/);
  });

  it('counts the call as in flight while it runs, and ends it, also when it fails', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    const during: number[] = [];
    ctx.graphs.answer = () => {
      during.push(ctx.inFlight.count);
      throw new GatewayError('QUERY_TIMEOUT', 'Too slow.');
    };
    failure(await ctx.call(queryTool, { graphName: 'movies', query: 'MATCH (n) RETURN n' }));
    structured(await ctx.call(listGraphsTool, {}));
    assert.deepEqual(during, [1]);
    assert.equal(ctx.inFlight.count, 0);
  });

  it('refuses arguments that do not fit the schema under the tool\'s own name, admitted and recorded like any call, naming the field and never its value', async () => {
    let admitted = 0;
    const ctx = unitCalls({ admit: () => Promise.resolve(void (admitted += 1)) });
    const error = failure(await ctx.call(queryTool, { graphName: 'movies', query: 'RETURN 1', readOnly: 'secret-value' }));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.match(error.message, /^Invalid arguments for falkordb_query: readOnly: expected a boolean/);
    assert.doesNotMatch(error.message, /secret-value/);
    assert.equal(admitted, 1);
    assert.deepEqual(
      ctx.records.map((r) => [r.tool, r.graph, r.query, r.outcome, r.errorCode]),
      [['falkordb_query', 'movies', 'RETURN 1', 'error', 'INVALID_ARGUMENT']],
    );
    assert.equal(ctx.graphs.queries.length, 0);
  });
});

describe('falkordb_read_query over a fake database', () => {
  it('sends every query read-only, a write-scoped caller too, and records it as a read', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    ctx.graphs.answer = () => ({ columns: ['n'], rows: [{ n: 1 }] });
    assert.deepEqual(structured(await ctx.call(readQueryTool, { graphName: 'movies', query: 'RETURN 1 AS n', parameters: { a: 1 } })).rows, [{ n: 1 }]);
    assert.deepEqual(ctx.graphs.queries.map((q) => [q.key, q.readOnly, q.params]), [['acme_movies', true, { a: 1 }]]);
    assert.equal(ctx.records[0]?.write, false);
  });

  it('refuses a write FalkorDB refused read-only with QUERY_FORBIDDEN naming falkordb_query, and never sends it as a write', async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    ctx.graphs.answer = () => ({ writes: true });
    const error = failure(await ctx.call(readQueryTool, { graphName: 'movies', query: 'CREATE (:Movie)' }));
    assert.equal(error.code, 'QUERY_FORBIDDEN');
    assert.match(error.message, /falkordb_query/);
    assert.deepEqual(ctx.graphs.queries.map((q) => q.readOnly), [true]);
  });
});

describe('falkordb_explain over a fake database', () => {
  it("plans the query on the caller's key with its parameters, and runs nothing", async () => {
    const ctx = unitCalls({ graphs: new FakeGraphOps(['acme_movies']) });
    const result = structured(await ctx.call(explainTool, { graphName: 'movies', query: 'MATCH (n) RETURN n', parameters: { a: 1 } }));
    assert.deepEqual(result, { graph: 'movies', plan: ['Results'], writes: false });
    assert.deepEqual(ctx.graphs.explains.map((q) => [q.key, q.params]), [['acme_movies', { a: 1 }]]);
    assert.equal(ctx.graphs.queries.length, 0);
  });

  it('needs the read scope, and sends nothing without it', async () => {
    const ctx = unitCalls({ principal: principalOf('acme', []), graphs: new FakeGraphOps(['acme_movies']) });
    assert.equal(failure(await ctx.call(explainTool, { graphName: 'movies', query: 'RETURN 1' })).code, 'SCOPE_MISSING');
    assert.equal(ctx.graphs.explains.length, 0);
  });

  it('says a missing graph does not exist', async () => {
    const ctx = unitCalls();
    const error = failure(await ctx.call(explainTool, { graphName: 'nothing', query: 'RETURN 1' }));
    assert.equal(error.code, 'GRAPH_NOT_FOUND');
    assert.match(error.message, /Graph "nothing" does not exist/);
  });
});
