// A plain tools/call of a 2025 client is answered without the SDK's dispatch
// (src/http/streamable.ts). Here every kind of call is sent twice over HTTP: as
// it is (the direct path), and with an empty `_meta` in its params, which sends
// it through the SDK's server. The replies must be the same, byte for byte once
// the query's own timings are left out.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let token: string;
let readOnly: string;

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  token = await signTestToken('direct-calls');
  readOnly = await signTestToken('direct-calls', { scope: 'read' });
  // The label exists before the write below runs twice, so both runs report the same statistics.
  const seeded = await post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'falkordb_query', arguments: { graphName: 'g', query: 'CREATE (:Thing {n: 0})' } } }, token);
  assert.equal(seeded.status, 200);
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

async function post(body: unknown, bearer: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, json: JSON.parse(await response.text()) as unknown };
}

/** Keys whose values differ between two runs of the same call: the query's own timings, whether FalkorDB had its plan cached, the gateway's uptime, the tenant's request count (the first of the two calls raised it). */
const VARYING = new Set(['executionTimeMs', 'Query internal execution time', 'cachedExecution', 'uptimeSec', 'uptimeSeconds', 'requests']);

/** The reply with the varying values taken out, in the structured result and in the JSON text beside it alike. */
function withoutTimings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimings);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !VARYING.has(key))
      .map(([key, v]) => {
        if (key === 'text' && typeof v === 'string') {
          try {
            return [key, withoutTimings(JSON.parse(v))];
          } catch {
            return [key, v];
          }
        }
        return [key, withoutTimings(v)];
      }),
  );
}

const CALLS: Array<[string, Record<string, unknown>, 'rw' | 'ro']> = [
  ['a write that creates a graph', { name: 'falkordb_query', arguments: { graphName: 'g', query: 'CREATE (:Thing {n: 1})' } }, 'rw'],
  ['a read with rows', { name: 'falkordb_read_query', arguments: { graphName: 'g', query: 'MATCH (t:Thing) RETURN t.n AS n' } }, 'rw'],
  ['the graph list', { name: 'falkordb_list_graphs', arguments: {} }, 'rw'],
  ['a call without arguments', { name: 'falkordb_server_info' }, 'rw'],
  ['an unknown tool', { name: 'falkordb_nothing', arguments: {} }, 'rw'],
  ['bad arguments', { name: 'falkordb_graph_schema', arguments: { graphName: 5 } }, 'rw'],
  ['a syntax error', { name: 'falkordb_query', arguments: { graphName: 'g', query: 'MATCH (n RETURN n' } }, 'rw'],
  ['a write with a read-only token', { name: 'falkordb_query', arguments: { graphName: 'g', query: 'CREATE (:Other)' } }, 'ro'],
  ['another tenant\'s graph name', { name: 'falkordb_graph_schema', arguments: { graphName: 'missing' } }, 'rw'],
];

describe('tools/call without the SDK\'s dispatch', () => {
  for (const [what, params, who] of CALLS) {
    it(`answers ${what} exactly as the SDK's server does`, async () => {
      const bearer = who === 'ro' ? readOnly : token;
      const direct = await post({ jsonrpc: '2.0', id: 41, method: 'tools/call', params }, bearer);
      const throughSdk = await post({ jsonrpc: '2.0', id: 41, method: 'tools/call', params: { ...params, _meta: {} } }, bearer);
      assert.equal(direct.status, throughSdk.status);
      assert.deepEqual(withoutTimings(direct.json), withoutTimings(throughSdk.json));
    });
  }

  it('leaves calls whose params are not plain to the SDK, which answers them with its own errors', async () => {
    for (const params of [{ name: 5 }, { name: 'falkordb_list_graphs', arguments: [] }, { name: 'falkordb_list_graphs', arguments: null }]) {
      const reply = await post({ jsonrpc: '2.0', id: 'x', method: 'tools/call', params }, token);
      const error = (reply.json as { error?: { code: number } }).error;
      assert.equal(error?.code, -32602, JSON.stringify(reply.json));
    }
  });
});
