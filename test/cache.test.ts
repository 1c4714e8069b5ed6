// Tenant-aware caching through real gateways on one real FalkorDB: schemas,
// graph lists and read-only query results cached per tenant on each instance,
// invalidated by writes through any instance, never shared between tenants;
// and the cache layer's ordering under a write that lands while a read runs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createGraphCache } from '../src/cache/graph-cache.js';
import { createCacheVersions, VERSION_TOKEN_TTL_MS, type CacheVersions } from '../src/cache/versions.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import type { GraphQuery } from '../src/falkordb/graphs.js';
import type { ShapedReply } from '../src/falkordb/shape.js';
import type { RunningGateway } from '../src/main.js';
import type { CacheKind } from '../src/observability/metrics.js';
import { stateKeys } from '../src/state/keys.js';
import { tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import type { GraphOperations } from '../src/falkordb/graphs.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, connectStdioClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { EMPTY_SCHEMA } from './unit/fake-graph-ops.js';

const G = 'falkordb_gateway_';
// Long enough that within a test only an invalidation, never the TTL, can refresh an entry.
const LONG_TTL = '600000';

let server: TestFalkorDB;
/** A connection of the test's own: changes made through it bypass every gateway. */
let direct: Database;
let a: RunningGateway;
let b: RunningGateway;
/** Query cache at its default (off). */
let plain: RunningGateway;
const clients: Client[] = [];
const extraGateways: RunningGateway[] = [];

before(async () => {
  server = await startTestFalkorDB();
  direct = await connectDatabase({ url: server.url, connectTimeoutMs: 5000, logger: testLogger() });
  const cached = { SCHEMA_CACHE_TTL_MS: LONG_TTL, QUERY_CACHE_TTL_MS: LONG_TTL, METRICS_TENANT_LABELS: 'all', RATE_LIMIT_PER_MINUTE: '0' };
  [a, b, plain] = await Promise.all([
    startTestGateway(server.url, { ...cached, METRICS_PORT: '0' }),
    startTestGateway(server.url, cached),
    startTestGateway(server.url, { SCHEMA_CACHE_TTL_MS: LONG_TTL, RATE_LIMIT_PER_MINUTE: '0' }),
  ]);
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const gateway of [...extraGateways, plain, b, a]) await gateway?.stop();
  await direct?.close();
  await server?.cleanup();
});

async function clientOf(gateway: RunningGateway, tenant: string, scope = 'read write admin'): Promise<Client> {
  const client = await connectClient('http', gateway.url, await signTestToken(tenant, { scope }));
  clients.push(client);
  return client;
}

/** A write (or any query) straight to FalkorDB, which no gateway sees. */
async function directQuery(tenant: string, graph: string, query: string): Promise<void> {
  await direct.sendCommand(['GRAPH.QUERY', tenantGraphKey(tenant, graph), query]);
}

async function readRows(client: Client, graph: string, query: string, parameters?: Record<string, unknown>): Promise<unknown[]> {
  const args: Record<string, unknown> = { graphName: graph, query, readOnly: true };
  if (parameters !== undefined) args.parameters = parameters;
  return (await mustCall(client, 'falkordb_query', args)).rows as unknown[];
}

async function write(client: Client, graph: string, query: string): Promise<void> {
  await mustCall(client, 'falkordb_query', { graphName: graph, query });
}

async function labels(client: Client, graph: string): Promise<string[]> {
  return ((await mustCall(client, 'falkordb_graph_schema', { graphName: graph })).labels as Array<{ name: string }>).map((l) => l.name).sort();
}

async function graphList(client: Client): Promise<string[]> {
  return (await mustCall(client, 'falkordb_list_graphs')).graphs as string[];
}

/** Hits and misses of one cache for one tenant on gateway A, from a real scrape. */
async function cacheCounts(tenant: string, cache: CacheKind): Promise<{ hits: number; misses: number }> {
  const text = await (await fetch(a.metricsUrl!)).text();
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${G}${name}{`) && l.includes(`cache="${cache}"`) && l.includes(`tenant="${tenant}"`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return { hits: value('cache_hits_total'), misses: value('cache_misses_total') };
}

describe('schema cache', () => {
  it('serves a cached schema until a write through another instance refreshes it', async () => {
    const onA = await clientOf(a, 'schema-t');
    const onB = await clientOf(b, 'schema-t');
    await write(onA, 'g', 'CREATE (:Person {name: "x"})');
    assert.deepEqual(await labels(onA, 'g'), ['Person']);
    // A change no gateway sees: the cached schema stays as it was, which shows it is cached.
    await directQuery('schema-t', 'g', 'CREATE (:Direct)');
    assert.deepEqual(await labels(onA, 'g'), ['Person']);
    await write(onB, 'g', 'CREATE (:Movie)');
    assert.deepEqual(await labels(onA, 'g'), ['Direct', 'Movie', 'Person']);
  });

  it('is refreshed when a graph is deleted and created again through another instance', async () => {
    const onA = await clientOf(a, 'schema-del');
    const onB = await clientOf(b, 'schema-del');
    await write(onA, 'g', 'CREATE (:Old)');
    assert.deepEqual(await labels(onA, 'g'), ['Old']);
    assert.equal((await mustCall(onB, 'falkordb_delete_graph', { graphName: 'g' })).deleted, true);
    const missing = await callTool(onA, 'falkordb_graph_schema', { graphName: 'g' });
    assert.equal(missing.error?.code, 'GRAPH_NOT_FOUND');
    await write(onB, 'g', 'CREATE (:New)');
    assert.deepEqual(await labels(onA, 'g'), ['New']);
  });

  it('keeps the cached schema when a write-mode query changed nothing, and drops it when one did', async () => {
    const onA = await clientOf(a, 'schema-noop');
    const onB = await clientOf(b, 'schema-noop');
    await write(onA, 'g', 'CREATE (:Kept)');
    assert.deepEqual(await labels(onA, 'g'), ['Kept']);
    await directQuery('schema-noop', 'g', 'CREATE (:Unseen)');
    await write(onB, 'g', 'MATCH (n) RETURN count(n)');
    assert.deepEqual(await labels(onA, 'g'), ['Kept'], 'a read in write mode is not a change');
    await write(onB, 'g', 'MERGE (n:Kept) SET n.touched = true');
    assert.deepEqual(await labels(onA, 'g'), ['Kept', 'Unseen']);
  });

  it('is refreshed after a write through `stdio --tenant` on the same database', async () => {
    const onA = await clientOf(a, 'schema-stdio');
    await write(onA, 'g', 'CREATE (:FromGateway)');
    assert.deepEqual(await labels(onA, 'g'), ['FromGateway']);
    const local = await connectStdioClient('schema-stdio', { FALKORDB_URL: server.url });
    clients.push(local);
    await write(local, 'g', 'CREATE (:FromStdio)');
    assert.deepEqual(await labels(onA, 'g'), ['FromGateway', 'FromStdio']);
  });

  it('does not cache a failure: a graph created outside the gateway is described at once', async () => {
    const onA = await clientOf(a, 'schema-err');
    assert.equal((await callTool(onA, 'falkordb_graph_schema', { graphName: 'later' })).error?.code, 'GRAPH_NOT_FOUND');
    await directQuery('schema-err', 'later', 'CREATE (:Arrived)');
    assert.deepEqual(await labels(onA, 'later'), ['Arrived']);
  });

  it('survives the loss of its version token: a token deleted from the database is never reused', async () => {
    const onA = await clientOf(a, 'schema-lost');
    await write(onA, 'g', 'CREATE (:Before)');
    assert.deepEqual(await labels(onA, 'g'), ['Before']);
    await directQuery('schema-lost', 'g', 'CREATE (:After)');
    // As an eviction or a flush of the gateway state would.
    assert.equal(await direct.sendCommand(['DEL', stateKeys.cacheGraphVersion('schema-lost', 'g')]), 1);
    assert.deepEqual(await labels(onA, 'g'), ['After', 'Before']);
  });
});

describe('graph list cache', () => {
  it('shows a graph created through another instance, and stops showing one deleted through it', async () => {
    const onA = await clientOf(a, 'list-t');
    const onB = await clientOf(b, 'list-t');
    await write(onA, 'first', 'CREATE (:N)');
    assert.deepEqual(await graphList(onA), ['first']);
    await directQuery('list-t', 'unseen', 'CREATE (:N)');
    assert.deepEqual(await graphList(onA), ['first'], 'the list is served from the cache');
    await write(onB, 'second', 'CREATE (:N)');
    assert.deepEqual(await graphList(onA), ['first', 'second', 'unseen']);
    await mustCall(onB, 'falkordb_delete_graph', { graphName: 'first' });
    assert.deepEqual(await graphList(onA), ['second', 'unseen']);
  });

  it('shows a graph that a failed write created through another instance', async () => {
    const onA = await clientOf(a, 'list-implicit');
    const onB = await clientOf(b, 'list-implicit');
    assert.deepEqual(await graphList(onA), []);
    // FalkorDB creates the graph for any query sent as GRAPH.QUERY, even one that fails to parse.
    assert.equal((await callTool(onB, 'falkordb_query', { graphName: 'implicit', query: 'CREATE (:N' })).error?.code, 'QUERY_FAILED');
    assert.deepEqual(await graphList(onA), ['implicit']);
  });

  it('forgets the graphs that `tenant remove --purge-graphs` deleted, for a tenant added again', async () => {
    const env = { FALKORDB_URL: server.url, LOG_LEVEL: 'silent' };
    await runCliJson(['tenant', 'add', 'list-purged', '--json'], env);
    const before = await clientOf(a, 'list-purged');
    await write(before, 'old', 'CREATE (:N)');
    assert.deepEqual(await graphList(before), ['old']);
    const removed = await runCli(['tenant', 'remove', 'list-purged', '--purge-graphs', '--yes'], env);
    assert.equal(removed.code, 0, removed.stderr);
    await runCliJson(['tenant', 'add', 'list-purged', '--json'], env);
    // Tokens issued in the second of the removal are caught by its cut-off.
    await sleep(1100);
    assert.deepEqual(await graphList(await clientOf(a, 'list-purged')), []);
  });

  it('keeps each tenant its own list', async () => {
    const acme = await clientOf(a, 'list-acme');
    const widgets = await clientOf(a, 'list-widgets');
    await write(acme, 'only-acme', 'CREATE (:N)');
    assert.deepEqual(await graphList(acme), ['only-acme']);
    assert.deepEqual(await graphList(widgets), []);
    assert.deepEqual(await graphList(acme), ['only-acme']);
  });
});

describe('query result cache (QUERY_CACHE_TTL_MS)', () => {
  const ITEMS = 'MATCH (n:Item) RETURN n.v AS v ORDER BY v';

  it('serves a repeated read from the cache until a write through any instance invalidates it', async () => {
    const onA = await clientOf(a, 'query-t');
    const onB = await clientOf(b, 'query-t');
    const uncached = await clientOf(plain, 'query-t');
    await write(onA, 'g', 'CREATE (:Item {v: 1})');
    assert.deepEqual(await readRows(onA, 'g', ITEMS), [{ v: 1 }]);
    await directQuery('query-t', 'g', 'CREATE (:Item {v: 2})');
    assert.deepEqual(await readRows(onA, 'g', ITEMS), [{ v: 1 }], 'gateway A answers from its cache');
    assert.deepEqual(await readRows(uncached, 'g', ITEMS), [{ v: 1 }, { v: 2 }], 'with the cache off (the default) the change shows at once');
    await write(onB, 'g', 'CREATE (:Item {v: 3})');
    assert.deepEqual(await readRows(onA, 'g', ITEMS), [{ v: 1 }, { v: 2 }, { v: 3 }]);
  });

  it('caches the queries of a read-only token, which run as GRAPH.RO_QUERY', async () => {
    const writer = await clientOf(b, 'query-ro');
    const reader = await clientOf(a, 'query-ro', 'read');
    await write(writer, 'g', 'CREATE (:Item {v: 1})');
    const first = await mustCall(reader, 'falkordb_query', { graphName: 'g', query: ITEMS });
    await directQuery('query-ro', 'g', 'CREATE (:Item {v: 2})');
    assert.deepEqual((await mustCall(reader, 'falkordb_query', { graphName: 'g', query: ITEMS })).rows, first.rows);
  });

  it('never serves one tenant the result cached for another, for the same graph name, query and parameters', async () => {
    const acme = await clientOf(a, 'acme');
    const widgets = await clientOf(a, 'widgets');
    await write(acme, 'shared', 'CREATE (:Item {v: 1, owner: "acme"})');
    await write(widgets, 'shared', 'CREATE (:Item {v: 1, owner: "widgets"})');
    const query = 'MATCH (n:Item) WHERE n.v = $v RETURN n.owner AS owner';
    const before = await cacheCounts('widgets', 'query');
    assert.deepEqual(await readRows(acme, 'shared', query, { v: 1 }), [{ owner: 'acme' }]);
    assert.deepEqual(await readRows(acme, 'shared', query, { v: 1 }), [{ owner: 'acme' }]);
    assert.deepEqual(await readRows(widgets, 'shared', query, { v: 1 }), [{ owner: 'widgets' }]);
    assert.deepEqual(await cacheCounts('widgets', 'query'), { hits: before.hits, misses: before.misses + 1 }, 'widgets missed: acme\'s entry is not theirs');
    assert.deepEqual(await readRows(widgets, 'shared', query, { v: 1 }), [{ owner: 'widgets' }]);
    assert.deepEqual(await readRows(acme, 'shared', query, { v: 1 }), [{ owner: 'acme' }]);
  });

  it('keeps tenants whose ids look alike apart (a_b and a, with graphs c and b_c)', async () => {
    const ab = await clientOf(a, 'a_b');
    const plainA = await clientOf(a, 'a');
    await write(ab, 'c', 'CREATE (:Item {v: "a_b"})');
    await write(plainA, 'c', 'CREATE (:Item {v: "a"})');
    assert.deepEqual(await readRows(ab, 'c', ITEMS), [{ v: 'a_b' }]);
    assert.deepEqual(await readRows(plainA, 'c', ITEMS), [{ v: 'a' }]);
    assert.deepEqual(await readRows(ab, 'c', ITEMS), [{ v: 'a_b' }]);
  });

  it('keeps different parameters in different entries, and the same parameters in any key order in one', async () => {
    const tenant = 'query-params';
    const onA = await clientOf(a, tenant);
    await write(onA, 'g', 'CREATE (:Item {v: 1}), (:Item {v: 2})');
    const query = 'MATCH (n:Item) WHERE n.v = $v OR n.v = $w RETURN n.v AS v ORDER BY v';
    const start = await cacheCounts(tenant, 'query');
    assert.deepEqual(await readRows(onA, 'g', query, { v: 1, w: 0 }), [{ v: 1 }]);
    assert.deepEqual(await readRows(onA, 'g', query, { v: 2, w: 0 }), [{ v: 2 }]);
    assert.deepEqual(await readRows(onA, 'g', query, { w: 0, v: 1 }), [{ v: 1 }]);
    assert.deepEqual(await readRows(onA, 'g', query, { v: 2, w: 0 }), [{ v: 2 }]);
    assert.deepEqual(await cacheCounts(tenant, 'query'), { hits: start.hits + 2, misses: start.misses + 2 });
  });

  it('does not cache errors: a graph created outside the gateway answers at once', async () => {
    const onA = await clientOf(a, 'query-err');
    const query = 'MATCH (n) RETURN count(n) AS n';
    assert.equal((await callTool(onA, 'falkordb_query', { graphName: 'later', query, readOnly: true })).error?.code, 'GRAPH_NOT_FOUND');
    await directQuery('query-err', 'later', 'CREATE (:N)');
    assert.deepEqual(await readRows(onA, 'later', query), [{ n: 1 }]);
  });

  it('forgets the results of a graph deleted through another instance', async () => {
    const onA = await clientOf(a, 'query-del');
    const onB = await clientOf(b, 'query-del');
    await write(onA, 'g', 'CREATE (:Item {v: 1})');
    assert.deepEqual(await readRows(onA, 'g', ITEMS), [{ v: 1 }]);
    await mustCall(onB, 'falkordb_delete_graph', { graphName: 'g' });
    assert.equal((await callTool(onA, 'falkordb_query', { graphName: 'g', query: ITEMS, readOnly: true })).error?.code, 'GRAPH_NOT_FOUND');
  });

  it('counts hits and misses per cache and tenant in /metrics', async () => {
    const tenant = 'query-metrics';
    const onA = await clientOf(a, tenant);
    await write(onA, 'g', 'CREATE (:Item {v: 1})');
    assert.deepEqual(await cacheCounts(tenant, 'query'), { hits: 0, misses: 0 });
    await readRows(onA, 'g', ITEMS);
    await readRows(onA, 'g', ITEMS);
    await readRows(onA, 'g', ITEMS);
    await labels(onA, 'g');
    await labels(onA, 'g');
    await graphList(onA);
    await write(onA, 'g', 'CREATE (:Item {v: 2})');
    await readRows(onA, 'g', ITEMS);
    await graphList(onA);
    assert.deepEqual(await cacheCounts(tenant, 'query'), { hits: 2, misses: 2 });
    assert.deepEqual(await cacheCounts(tenant, 'schema'), { hits: 1, misses: 1 });
    assert.deepEqual(await cacheCounts(tenant, 'graph_list'), { hits: 0, misses: 2 });
  });

  it('shows a change made outside the gateway once the TTL has passed', async () => {
    const short = await startTestGateway(server.url, { SCHEMA_CACHE_TTL_MS: '200', QUERY_CACHE_TTL_MS: '200' });
    extraGateways.push(short);
    const client = await clientOf(short, 'query-ttl');
    await write(client, 'g', 'CREATE (:Item {v: 1})');
    assert.deepEqual(await readRows(client, 'g', ITEMS), [{ v: 1 }]);
    assert.deepEqual(await labels(client, 'g'), ['Item']);
    await directQuery('query-ttl', 'g', 'CREATE (:Item {v: 2}), (:Other)');
    // Waits for the change, not for a time: the bound is generous for a busy machine.
    let rows: unknown[] = [];
    let seen: string[] = [];
    for (let attempt = 0; attempt < 300; attempt++) {
      rows = await readRows(client, 'g', ITEMS);
      seen = await labels(client, 'g');
      if (rows.length === 2 && seen.length === 2) break;
      await sleep(100);
    }
    assert.deepEqual(rows, [{ v: 1 }, { v: 2 }]);
    assert.deepEqual(seen, ['Item', 'Other']);
  });
});

describe('cached answers and admission', () => {
  // Reads no data but keeps a FalkorDB thread busy for seconds (as in admission.test.ts).
  const SLOW_QUERY = 'WITH range(1, 10000) AS r UNWIND range(1, 6000) AS a UNWIND r AS x WITH x WHERE x < 0 RETURN count(x) AS n';
  const ITEMS = 'MATCH (n:Item) RETURN n.v AS v ORDER BY v';

  it("answers a cached read and schema at once while the tenant's query slots and queue are full", async () => {
    const busy = await startTestGateway(server.url, {
      SCHEMA_CACHE_TTL_MS: LONG_TTL,
      QUERY_CACHE_TTL_MS: LONG_TTL,
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_CONCURRENT_QUERIES_PER_TENANT: '1',
      MAX_CONCURRENT_QUERIES: '16',
      QUERY_QUEUE_TIMEOUT_MS: '600000',
      QUERY_TIMEOUT_MS: '600000',
    });
    extraGateways.push(busy);
    const client = await clientOf(busy, 'busy-t');
    await write(client, 'g', 'CREATE (:Item {v: 1})');
    assert.deepEqual(await readRows(client, 'g', ITEMS), [{ v: 1 }]);
    assert.deepEqual(await labels(client, 'g'), ['Item']);

    // One slot runs, a queue as long as the cap waits, the rest is refused at once.
    const finished: string[] = [];
    let refusedOne!: () => void;
    const firstRefusal = new Promise<void>((resolve) => (refusedOne = resolve));
    const slowCalls = Array.from({ length: 3 }, (_, i) =>
      callTool(client, 'falkordb_query', { graphName: 'g', query: SLOW_QUERY, readOnly: true }).then((outcome) => {
        finished.push(outcome.ok ? `slow${i} ok` : `slow${i} ${outcome.error?.code}`);
        if (!outcome.ok) refusedOne();
      }),
    );
    await Promise.race([firstRefusal, Promise.all(slowCalls)]);
    const cachedRead = await callTool(client, 'falkordb_query', { graphName: 'g', query: ITEMS, readOnly: true });
    finished.push(cachedRead.ok ? 'cached read ok' : `cached read ${cachedRead.error?.code}`);
    const cachedSchema = await callTool(client, 'falkordb_graph_schema', { graphName: 'g' });
    finished.push(cachedSchema.ok ? 'cached schema ok' : `cached schema ${cachedSchema.error?.code}`);
    await Promise.all(slowCalls);

    assert.ok(cachedRead.ok, `the cached read answered: ${cachedRead.text}`);
    assert.deepEqual(cachedRead.structured?.rows, [{ v: 1 }]);
    assert.ok(cachedSchema.ok, `the cached schema answered: ${cachedSchema.text}`);
    const firstSlow = finished.findIndex((entry) => /^slow\d+ ok$/.test(entry));
    assert.ok(firstSlow >= 0, `a slow query ran: ${finished.join(', ')}`);
    assert.ok(finished.indexOf('cached schema ok') < firstSlow, `both cached answers came before any slow query finished: ${finished.join(', ')}`);
  });

  it("counts a cached read against the tenant's rate limit", async () => {
    const limited = await startTestGateway(server.url, { QUERY_CACHE_TTL_MS: LONG_TTL, RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_BURST: '0' });
    extraGateways.push(limited);
    await directQuery('cache-rate', 'g', 'CREATE (:Item {v: 1})');
    // Opening the session is the first request of the budget; each tool call then counts on its own.
    const client = await connectClient('sse-header', limited.url, await signTestToken('cache-rate'));
    clients.push(client);
    assert.deepEqual(await readRows(client, 'g', ITEMS), [{ v: 1 }]);
    await directQuery('cache-rate', 'g', 'CREATE (:Item {v: 2})');
    for (let call = 3; call <= 5; call++) assert.deepEqual(await readRows(client, 'g', ITEMS), [{ v: 1 }], 'answered from the cache');
    const refused = await callTool(client, 'falkordb_query', { graphName: 'g', query: ITEMS, readOnly: true });
    assert.equal(refused.error?.code, 'RATE_LIMITED', refused.text);
  });

  it("refuses a cached read of a graph the token's graphs claim does not allow", async () => {
    const all = await clientOf(a, 'cache-rules');
    await write(all, 'secret', 'CREATE (:Item {v: 1})');
    assert.deepEqual(await readRows(all, 'secret', ITEMS), [{ v: 1 }]);
    assert.deepEqual(await labels(all, 'secret'), ['Item']);
    const limited = await connectClient('http', a.url, await signTestToken('cache-rules', { claims: { graphs: ['public_*'] } }));
    clients.push(limited);
    for (const [tool, args] of [
      ['falkordb_query', { graphName: 'secret', query: ITEMS, readOnly: true }],
      ['falkordb_graph_schema', { graphName: 'secret' }],
    ] as const) {
      const outcome = await callTool(limited, tool, args);
      assert.equal(outcome.error?.code, 'GRAPH_FORBIDDEN', `${tool}: ${outcome.text}`);
    }
    assert.deepEqual(await graphList(limited), []);
  });
});

describe('cache layer ordering', () => {
  const reply = (v: number): ShapedReply => ({ columns: ['v'], rows: [{ v }], rowCount: 1, truncated: false, stats: {}, executionTimeMs: 0 });

  /**
   * Graph operations over one counter: a write adds 1, a read returns the value current when it
   * started. With `blockFirstRead`, the first read waits until the test calls release().
   */
  function slowGraph(blockFirstRead = true) {
    let value = 1;
    let calls = 0;
    let release: (() => void) | undefined;
    let blocked = false;
    const ops: GraphOperations = {
      get database(): Database {
        return direct;
      },
      async query(q: GraphQuery) {
        calls += 1;
        if (!q.readOnly) {
          value += 1;
          return { ...reply(value), stats: { nodesCreated: 1 } };
        }
        const seen = value;
        if (blockFirstRead && !blocked) {
          blocked = true;
          await new Promise<void>((resolve) => (release = resolve));
        }
        return reply(seen);
      },
      explain: () => Promise.reject(new Error('not used')),
      listKeys: () => Promise.resolve([]),
      deleteGraph: () => Promise.resolve(true),
      schema: () => Promise.reject(new Error('not used')),
      createConstraint: () => Promise.reject(new Error('not used')),
      dropConstraint: () => Promise.reject(new Error('not used')),
    };
    return { ops, calls: () => calls, release: () => release?.() };
  }

  const cacheOver = (tenant: string, ops: GraphOperations) =>
    createGraphCache({ database: direct, config: { schemaTtlMs: 600_000, queryTtlMs: 600_000, queryMaxBytes: 1 << 20 }, metrics: { cacheLookup: () => undefined }, logger: testLogger() }).wrap(tenant, ops);

  it('never stores a result read before a write under the version after it', async () => {
    const graph = slowGraph();
    const ops = cacheOver('order', graph.ops);
    const q: GraphQuery = { key: tenantGraphKey('order', 'g'), query: 'MATCH (n) RETURN n', readOnly: true, timeoutMs: 1000, maxRows: 10 };
    const slowRead = ops.query(q);
    // Let the read fetch its version and start waiting on the database.
    for (let i = 0; i < 50 && graph.calls() === 0; i++) await sleep(10);
    assert.equal(graph.calls(), 1);
    await ops.query({ ...q, query: 'CREATE ()', readOnly: false });
    graph.release();
    assert.deepEqual((await slowRead).rows, [{ v: 1 }], 'the read that started before the write saw the old value');
    assert.deepEqual((await ops.query(q)).rows, [{ v: 2 }], 'the next read is not served that old value');
    assert.equal(graph.calls(), 3);
    assert.deepEqual((await ops.query(q)).rows, [{ v: 2 }]);
    assert.equal(graph.calls(), 3, 'and the fresh value is cached');
  });

  it('passes a key of another tenant through without caching it', async () => {
    const graph = slowGraph(false);
    const ops = cacheOver('mine', graph.ops);
    const q: GraphQuery = { key: tenantGraphKey('theirs', 'g'), query: 'MATCH (n) RETURN n', readOnly: true, timeoutMs: 1000, maxRows: 10 };
    await ops.query(q);
    await ops.query(q);
    assert.equal(graph.calls(), 2);
  });

  it('shares no entry between tenants even when their version tokens are equal', async () => {
    // Every tenant's tokens are random, so this needs a version store that answers the same for all.
    const sameEverywhere: CacheVersions = {
      graph: () => Promise.resolve({ token: 'same', ageMs: 0 }),
      graphList: () => Promise.resolve({ token: 'same', ageMs: 0 }),
      bump: () => Promise.resolve(),
    };
    const cache = createGraphCache({
      database: direct,
      config: { schemaTtlMs: 600_000, queryTtlMs: 600_000, queryMaxBytes: 1 << 20 },
      metrics: { cacheLookup: () => undefined },
      logger: testLogger(),
      versions: sameEverywhere,
    });
    const answering = (answer: number): GraphOperations => ({
      get database(): Database {
        return direct;
      },
      query: () => Promise.resolve(reply(answer)),
      explain: () => Promise.reject(new Error('not used')),
      listKeys: (prefix) => Promise.resolve([`${prefix}g${answer}`]),
      deleteGraph: () => Promise.resolve(true),
      schema: () => Promise.resolve({ ...EMPTY_SCHEMA, labels: [{ name: `L${answer}`, count: 0, properties: [] }] }),
      createConstraint: () => Promise.reject(new Error('not used')),
      dropConstraint: () => Promise.reject(new Error('not used')),
    });
    const acme = cache.wrap('acme', answering(1));
    const widgets = cache.wrap('widgets', answering(2));
    const q = (tenant: string): GraphQuery => ({ key: tenantGraphKey(tenant, 'g'), query: 'MATCH (n) RETURN n', params: { v: 1 }, readOnly: true, timeoutMs: 1000, maxRows: 10 });
    for (let round = 0; round < 2; round++) {
      assert.deepEqual((await acme.query(q('acme'))).rows, [{ v: 1 }]);
      assert.deepEqual((await widgets.query(q('widgets'))).rows, [{ v: 2 }]);
      assert.deepEqual((await acme.schema(tenantGraphKey('acme', 'g'), 1000)).labels.map((l) => l.name), ['L1']);
      assert.deepEqual((await widgets.schema(tenantGraphKey('widgets', 'g'), 1000)).labels.map((l) => l.name), ['L2']);
      assert.deepEqual(await acme.listKeys(tenantKeyPrefix('acme')), ['acme_g1']);
      assert.deepEqual(await widgets.listKeys(tenantKeyPrefix('widgets')), ['widgets_g2']);
    }
  });

  it('bumps only the graphs and lists of the tenant that changed them', async () => {
    const versions = createCacheVersions(direct);
    const mine = (await versions.graph('bump-a', 'g')).token;
    const theirs = (await versions.graph('bump-b', 'g')).token;
    const theirList = (await versions.graphList('bump-b')).token;
    await versions.bump('bump-a', ['g'], true);
    assert.notEqual((await versions.graph('bump-a', 'g')).token, mine);
    assert.equal((await versions.graph('bump-b', 'g')).token, theirs);
    assert.equal((await versions.graphList('bump-b')).token, theirList);
  });

  it('with read replicas, stores a result only under a version older than the replica lag', async () => {
    const graph = slowGraph(false);
    const ops = createGraphCache({
      database: direct,
      config: { schemaTtlMs: 600_000, queryTtlMs: 600_000, queryMaxBytes: 1 << 20 },
      metrics: { cacheLookup: () => undefined },
      logger: testLogger(),
      replicaLagMs: 60_000,
    }).wrap('lagged', graph.ops);
    const q: GraphQuery = { key: tenantGraphKey('lagged', 'g'), query: 'MATCH (n) RETURN n', readOnly: true, timeoutMs: 1000, maxRows: 10 };
    await ops.query(q);
    await ops.query(q);
    assert.equal(graph.calls(), 2, 'a version set moments ago may be ahead of a replica: nothing stored');
    // A token set two minutes ago (its age is read from its remaining lifetime).
    const key = stateKeys.cacheGraphVersion('lagged', 'g');
    await direct.sendCommand(['SET', key, 'settled', 'PX', String(VERSION_TOKEN_TTL_MS - 120_000)]);
    await ops.query(q);
    await ops.query(q);
    assert.equal(graph.calls(), 3, 'under a settled version the result is stored and served');
  });
});
