// /mcp answers every stateless POST with one JSON reply from one shared MCP
// server: the status codes and JSON-RPC errors of the Streamable HTTP
// transport, batches, notifications, and callers that never see each other's
// requests even when they use the same JSON-RPC ids at the same time.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { seedGraph } from './support/graphs.js';
import { connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let token: string;
/** Another tenant's token, for the requests that try to reach this one's. */
let otherToken: string;

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  token = await signTestToken('json-path');
  otherToken = await signTestToken('json-path-other');
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

const ACCEPT_BOTH = 'application/json, text/event-stream';

interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  json: unknown;
}

async function post(body: unknown, headers: Record<string, string> = {}, bearer = token): Promise<Reply> {
  const response = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    // A request that is never answered fails its test instead of hanging it.
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text, json };
}

const listGraphs = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'falkordb_list_graphs', arguments: {} } });
const ping = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'ping' });
const initialize = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });

function rpcError(reply: Reply): { code: number; message: string } {
  const body = reply.json as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, null);
  return body.error;
}

describe('the JSON reply path of /mcp', () => {
  it('answers a request with one JSON object under the caller\'s own id', async () => {
    const reply = await post(ping('my-id'));
    assert.equal(reply.status, 200);
    assert.match(reply.contentType ?? '', /^application\/json/);
    assert.deepEqual(reply.json, { jsonrpc: '2.0', id: 'my-id', result: {} });
  });

  it('negotiates the protocol version in initialize', async () => {
    const reply = await post(initialize(7));
    assert.equal(reply.status, 200);
    const body = reply.json as { id: number; result: { protocolVersion: string; serverInfo: { name: string } } };
    assert.equal(body.id, 7);
    assert.equal(body.result.protocolVersion, '2025-06-18');
    assert.equal(body.result.serverInfo.name, 'falkordb-mcp-gateway');
  });

  it('answers a batch with an array, in the order of its requests, leaving out notifications', async () => {
    const reply = await post([ping(3), { jsonrpc: '2.0', method: 'notifications/initialized' }, listGraphs(1), ping('two')]);
    assert.equal(reply.status, 200);
    const body = reply.json as Array<{ id: unknown; result?: { structuredContent?: unknown } }>;
    assert.deepEqual(
      body.map((r) => r.id),
      [3, 1, 'two'],
    );
    assert.deepEqual(body[1]!.result?.structuredContent, { graphs: [] });
  });

  it('accepts notifications alone with 202 and no body', async () => {
    const reply = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    assert.equal(reply.status, 202);
    assert.equal(reply.text, '');
    const cancel = await post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    assert.equal(cancel.status, 202);
  });

  it('refuses a client that does not accept both JSON and event streams with 406', async () => {
    for (const accept of ['application/json', 'text/event-stream', '*/*']) {
      const reply = await post(ping(1), { Accept: accept });
      assert.equal(reply.status, 406, accept);
      assert.equal(rpcError(reply).code, -32000);
      assert.match(rpcError(reply).message, /Not Acceptable/);
    }
  });

  it('refuses a body that is not declared as JSON with 415', async () => {
    const reply = await post(ping(1), { 'Content-Type': 'text/plain; a=application/json' });
    assert.equal(reply.status, 415);
    assert.match(rpcError(reply).message, /Unsupported Media Type/);
    assert.equal((await post(ping(1), { 'Content-Type': 'application/json; charset=utf-8' })).status, 200);
  });

  it('refuses an unsupported MCP-Protocol-Version with 400, but not on initialize', async () => {
    const reply = await post(ping(1), { 'MCP-Protocol-Version': '1999-01-01' });
    assert.equal(reply.status, 400);
    assert.match(rpcError(reply).message, /Unsupported protocol version: 1999-01-01/);
    assert.equal((await post(ping(1), { 'MCP-Protocol-Version': '2025-06-18' })).status, 200);
    assert.equal((await post(initialize(1), { 'MCP-Protocol-Version': '1999-01-01' })).status, 200);
  });

  it('refuses what is not JSON-RPC, oversized batches and batched initialize with 400', async () => {
    // Valid JSON that is no JSON-RPC message is an invalid request (JSON-RPC 2.0, section 5.1), as the SDK classifies it.
    const notRpc = await post({ hello: 'world' });
    assert.equal(notRpc.status, 400);
    assert.equal(rpcError(notRpc).code, -32600);
    assert.match(rpcError(notRpc).message, /not a valid JSON-RPC message/);
    const tooMany = await post(Array.from({ length: 101 }, (_, i) => ping(i)));
    assert.equal(tooMany.status, 400);
    assert.equal(rpcError(tooMany).code, -32600);
    const twoInits = await post([initialize(1), ping(2)]);
    assert.equal(twoInits.status, 400);
    assert.match(rpcError(twoInits).message, /Only one initialization request/);
    const notJson = await post('{not json');
    assert.equal(notJson.status, 400);
  });

  it('answers unknown methods and bad tool arguments with JSON-RPC errors under the caller\'s id', async () => {
    const unknown = await post({ jsonrpc: '2.0', id: 9, method: 'no/such/method' });
    assert.equal(unknown.status, 200);
    assert.equal((unknown.json as { id: number; error: { code: number } }).id, 9);
    assert.equal((unknown.json as { error: { code: number } }).error.code, -32601);
    const badArgs = await post({ jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'falkordb_graph_schema', arguments: { graphName: 5 } } });
    const body = badArgs.json as { id: number; result?: { isError?: boolean }; error?: unknown };
    assert.equal(body.id, 10);
    assert.ok(body.result?.isError === true || body.error !== undefined, badArgs.text);
  });
});

describe('one shared MCP server for every caller', () => {
  it('keeps concurrent callers apart, even with the same JSON-RPC ids', async () => {
    const tenants = ['shared-a', 'shared-b', 'shared-c'];
    const tokens = await Promise.all(tenants.map((t) => signTestToken(t)));
    // Each tenant gets a graph of its own name, through the SDK client.
    for (const [i, tenant] of tenants.entries()) {
      const client = await connectClient('http', gateway.url, tokens[i]!);
      await mustCall(client, 'falkordb_query', { graphName: `only-${tenant}`, query: 'CREATE (:N)' });
      await client.close();
    }
    // Many POSTs at once, every one with id 1: each sees its own tenant's graph and nothing else.
    const rounds = 20;
    const replies = await Promise.all(Array.from({ length: rounds * tenants.length }, (_, i) => post(listGraphs(1), {}, tokens[i % tenants.length]!)));
    replies.forEach((reply, i) => {
      const tenant = tenants[i % tenants.length]!;
      const body = reply.json as { id: number; result: { structuredContent: { graphs: string[] } } };
      assert.equal(body.id, 1);
      assert.deepEqual(body.result.structuredContent.graphs, [`only-${tenant}`], `call ${i} of ${tenant}`);
    });
  });

  it('cannot cancel another caller\'s request with a guessed id', async () => {
    await seedGraph(gateway, 'json-path', 'slow');
    const slow = post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'falkordb_query', arguments: { graphName: 'slow', query: 'UNWIND range(1, 200000) AS x RETURN count(x) AS n' } } });
    // Whatever ids the server uses inside, a cancellation from another POST reaches none of them.
    const cancels = await Promise.all(
      Array.from({ length: 5 }, (_, batch) =>
        post(
          Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: batch * 100 + i, reason: 'x' } })),
          {},
          otherToken,
        ),
      ),
    );
    assert.ok(cancels.every((c) => c.status === 202));
    const reply = await slow;
    const body = reply.json as { id: number; result: { structuredContent: { rows: Array<{ n: number }> } } };
    assert.equal(body.id, 1);
    assert.equal(body.result.structuredContent.rows[0]!.n, 200000);
  });
});

