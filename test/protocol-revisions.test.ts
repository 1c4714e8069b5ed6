// Every revision of MCP a client may speak to /mcp, through real clients: the
// SDK v2 client pinned to 2026-07-28 (no initialize; server/discover and a
// `_meta` envelope on every request), the same client negotiating (`auto`)
// and in its 2025 mode, the SDK v1 client (2025-11-25), and a 2025-06-18
// client speaking raw JSON-RPC. Then what the 2026-07-28 revision asks of a
// server beyond the clients' happy path: server/discover, cache hints on
// list results, the standard headers (Mcp-Method, Mcp-Name) checked against
// the body, and tenants still apart.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { CLI_ENTRY, REPO_ROOT, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let token: string;
let otherToken: string;

const MODERN = '2026-07-28';

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  token = await signTestToken('revisions');
  otherToken = await signTestToken('revisions-other');
  // Each tenant has a graph of its own, to see that neither ever shows the other's.
  const mine = await connectClient('http', gateway.url, token);
  await mustCall(mine, 'falkordb_query', { graphName: 'mine', query: 'CREATE (:Thing {n: 1})' });
  await mine.close();
  const theirs = await connectClient('http', gateway.url, otherToken);
  await mustCall(theirs, 'falkordb_query', { graphName: 'theirs', query: 'CREATE (:Thing {n: 2})' });
  await theirs.close();
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

type Mode = 'legacy' | 'auto' | { pin: string };

async function connectV2(mode: Mode, bearer = token): Promise<ClientV2> {
  const client = new ClientV2({ name: 'revisions-test', version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new HttpTransportV2(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${bearer}` } } }));
  return client;
}

/** The structuredContent of a tool call that must succeed, through the v2 client. */
async function mustCallV2(client: ClientV2, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, JSON.stringify(result.content));
  return result.structuredContent as Record<string, unknown>;
}

const graphNames = (listed: Record<string, unknown>) => listed['graphs'] as string[];

describe('clients of every revision', () => {
  for (const [mode, revision] of [
    [{ pin: MODERN }, MODERN],
    ['auto', MODERN],
    ['legacy', '2025-11-25'],
  ] as const) {
    it(`the SDK v2 client (${JSON.stringify(mode)}) negotiates ${revision}, lists the tools and calls them`, async () => {
      const client = await connectV2(mode);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), revision);
        assert.equal(client.getServerVersion()?.name, 'falkordb-mcp-gateway');
        const { tools } = await client.listTools();
        assert.ok(tools.some((t) => t.name === 'falkordb_read_query'));
        const read = await mustCallV2(client, 'falkordb_read_query', { graphName: 'mine', query: 'MATCH (t:Thing) RETURN t.n AS n' });
        assert.deepEqual(read['rows'], [{ n: 1 }]);
        assert.deepEqual(graphNames(await mustCallV2(client, 'falkordb_list_graphs')), ['mine']);
        // Errors come back as tool results, in every revision.
        const missing = await client.callTool({ name: 'falkordb_graph_schema', arguments: { graphName: 'theirs' } });
        assert.equal(missing.isError, true);
        assert.doesNotMatch(JSON.stringify(missing), /revisions-other/);
      } finally {
        await client.close();
      }
    });
  }

  it('the SDK v1 client (2025-11-25) still works beside them', async () => {
    const client = await connectClient('http', gateway.url, token);
    try {
      assert.deepEqual(graphNames(await mustCall(client, 'falkordb_list_graphs')), ['mine']);
    } finally {
      await client.close();
    }
  });

  it('a 2025-06-18 client (raw JSON-RPC: initialize, then calls with its version header) is served in its revision', async () => {
    const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'old', version: '1' } } }, {});
    assert.equal(init.status, 200);
    assert.equal((init.json as { result: { protocolVersion: string } }).result.protocolVersion, '2025-06-18');
    const listed = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'falkordb_list_graphs', arguments: {} } }, { 'MCP-Protocol-Version': '2025-06-18' });
    assert.equal(listed.status, 200);
    const result = (listed.json as { result: Record<string, unknown> }).result;
    assert.equal(result['resultType'], undefined, 'a 2025 reply has no resultType');
    assert.deepEqual(graphNames(result['structuredContent'] as Record<string, unknown>), ['mine']);
  });

  it('the SDK v2 client over stdio, pinned to 2026-07-28, is served in that revision', async () => {
    const client = new ClientV2({ name: 'revisions-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(
      new StdioTransportV2({
        command: process.execPath,
        args: ['--import', 'tsx', CLI_ENTRY, 'stdio', '--tenant', 'revisions', '--scope', 'read write'],
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', FALKORDB_URL: db.url },
        cwd: REPO_ROOT,
        stderr: 'pipe',
      }),
    );
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      assert.deepEqual(graphNames(await mustCallV2(client, 'falkordb_list_graphs')), ['mine']);
    } finally {
      await client.close();
    }
  });
});

interface Reply {
  status: number;
  json: unknown;
}

async function post(body: unknown, headers: Record<string, string>, bearer = token): Promise<Reply> {
  const response = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };

/** A request of the 2026-07-28 revision, with the headers it needs unless `headers` says otherwise. */
function modern(method: string, params: Record<string, unknown>, headers: Record<string, string | undefined> = {}, bearer = token): Promise<Reply> {
  const name = typeof params['name'] === 'string' ? { 'Mcp-Name': params['name'] } : {};
  const all = { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': method, ...name, ...headers };
  const sent = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  return post({ jsonrpc: '2.0', id: 'r1', method, params: { ...params, _meta: ENVELOPE } }, sent, bearer);
}

const rpcError = (reply: Reply) => (reply.json as { error: { code: number; message: string } }).error;
const rpcResult = (reply: Reply) => (reply.json as { result: Record<string, unknown> }).result;

describe('the 2026-07-28 revision on the wire', () => {
  it('answers server/discover with the revisions, capabilities and server it offers', async () => {
    const reply = await modern('server/discover', {});
    assert.equal(reply.status, 200);
    const result = rpcResult(reply);
    assert.equal(result['resultType'], 'complete');
    assert.ok((result['supportedVersions'] as string[]).includes(MODERN));
    assert.ok((result['capabilities'] as Record<string, unknown>)['tools'] !== undefined);
    assert.equal((result['_meta'] as Record<string, { name: string }>)['io.modelcontextprotocol/serverInfo']?.name, 'falkordb-mcp-gateway');
  });

  it('says how long the tool list may be kept, and that it is private to the caller (it follows the token\'s scopes)', async () => {
    const result = rpcResult(await modern('tools/list', {}));
    assert.equal(result['cacheScope'], 'private');
    assert.equal(result['ttlMs'], 3_600_000);
    assert.ok(Array.isArray(result['tools']));
    // The 2025 revisions have no such fields.
    const legacy = rpcResult(await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, {}));
    assert.equal(legacy['ttlMs'], undefined);
  });

  it('refuses a request without the Mcp-Method or MCP-Protocol-Version header with 400 and the header-mismatch error', async () => {
    for (const missing of ['Mcp-Method', 'MCP-Protocol-Version']) {
      const reply = await modern('tools/list', {}, { [missing]: undefined });
      assert.equal(reply.status, 400, missing);
      assert.equal(rpcError(reply).code, -32020, missing);
      assert.match(rpcError(reply).message, new RegExp(missing, 'i'));
    }
  });

  it('refuses a tools/call whose Mcp-Name is missing or names another tool than its body, so a proxy can never route one call and run another', async () => {
    const args = { name: 'falkordb_list_graphs', arguments: {} };
    const noName = await modern('tools/call', args, { 'Mcp-Name': undefined });
    assert.equal(noName.status, 400);
    assert.equal(rpcError(noName).code, -32020);
    const other = await modern('tools/call', args, { 'Mcp-Name': 'falkordb_delete_graph' });
    assert.equal(other.status, 400);
    assert.equal(rpcError(other).code, -32020);
    const badBase64 = await modern('tools/call', args, { 'Mcp-Name': '=?base64?not base64!?=' });
    assert.equal(badBase64.status, 400);
    // The same name in the header's Base64 form is the same name.
    const encoded = await modern('tools/call', args, { 'Mcp-Name': `=?base64?${Buffer.from('falkordb_list_graphs').toString('base64')}?=` });
    assert.equal(encoded.status, 200);
    assert.deepEqual(graphNames(rpcResult(encoded)['structuredContent'] as Record<string, unknown>), ['mine']);
  });

  it('refuses a revision it does not serve, naming the ones it does', async () => {
    const reply = await post(
      { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } },
      { 'MCP-Protocol-Version': '2099-01-01', 'Mcp-Method': 'tools/list' },
    );
    assert.equal(reply.status, 400);
    assert.equal(rpcError(reply).code, -32022);
    assert.match(rpcError(reply).message, /2026-07-28/);
    assert.equal((reply.json as { id: unknown }).id, 7);
  });

  it('answers an unknown method with 404 and method-not-found, and has no initialize', async () => {
    const unknown = await modern('no/such/method', {});
    assert.equal(unknown.status, 404);
    assert.equal(rpcError(unknown).code, -32601);
    const init = await modern('initialize', { protocolVersion: MODERN, capabilities: {}, clientInfo: { name: 'x', version: '1' } });
    assert.equal(init.status, 404);
  });

  it('keeps tenants apart: each sees its own graphs only, and a token is still needed', async () => {
    const call = { name: 'falkordb_list_graphs', arguments: {} };
    assert.deepEqual(graphNames(rpcResult(await modern('tools/call', call))['structuredContent'] as Record<string, unknown>), ['mine']);
    assert.deepEqual(graphNames(rpcResult(await modern('tools/call', call, {}, otherToken))['structuredContent'] as Record<string, unknown>), ['theirs']);
    const noToken = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'server/discover' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: ENVELOPE } }),
    });
    assert.equal(noToken.status, 401);
  });

  it('two callers using the same request id at once each get their own answer', async () => {
    const call = { name: 'falkordb_list_graphs', arguments: {} };
    const [a, b] = await Promise.all([modern('tools/call', call), modern('tools/call', call, {}, otherToken)]);
    assert.deepEqual(graphNames(rpcResult(a)['structuredContent'] as Record<string, unknown>), ['mine']);
    assert.deepEqual(graphNames(rpcResult(b)['structuredContent'] as Record<string, unknown>), ['theirs']);
  });
});
