// Every example message docs/troubleshooting.md gives for these codes is one the
// code really produces: each is provoked through a real gateway over HTTP/MCP
// (or the command as a child process) on a real FalkorDB, and compared with the
// section's examples, digits aside.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Client as ClientV2, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { PLAN_CACHE_TTL_MS } from '../src/state/plan-rates.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { TenantRegistry } from '../src/state/tenants.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { runCli } from './support/cli.js';
import { documentedMessages, TROUBLESHOOTING_CODES_B } from './support/docs.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { openRawSse, postTokenForm, probeMcp, type Probe } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { startTopology, waitFor, type Topology, type TopologyNode } from './support/topology.js';

const COVERED = TROUBLESHOOTING_CODES_B;

type Code = (typeof COVERED)[number];

const digitless = (text: string) => text.replace(/\d+(\.\d+)?/g, 'N');

const produced = new Set<string>();
/** The examples of each code that a produced message matched, by their place in the section. */
const matched = new Map<string, Set<number>>();

/** `message` (of `code`) is one of the examples of `code`'s section, digits aside. */
function assertDocumented(code: Code, error: { code?: unknown; message?: unknown } | undefined, what = ''): void {
  assert.ok(error !== undefined, `${code}: no error ${what}`);
  assert.equal(error.code, code, `${what} ${String(error.message)}`);
  assertDocumentedMessage(code, String(error.message));
}

function assertDocumentedMessage(code: Code, message: string): void {
  const examples = documentedMessages(code);
  assert.ok(examples.length > 0, `docs/troubleshooting.md has examples for ${code}`);
  const index = examples.map(digitless).indexOf(digitless(message));
  assert.ok(index >= 0, `${code}: "${message}" is not among the documented ${JSON.stringify(examples)}`);
  produced.add(code);
  matched.set(code, (matched.get(code) ?? new Set()).add(index));
}

/** An HTTP refusal's {code, message}, whichever way the body nests it. */
function refusal(probe: Probe): { code?: unknown; message?: unknown } {
  const body = probe.body as { code?: unknown; message?: unknown; error?: { code?: unknown; message?: unknown } };
  return typeof body.error === 'object' ? body.error : body;
}

/** The one line a command printed for its failure, without the command's name. */
function cliMessage(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  return last.replace(/^falkordb-mcp-gateway: /, '');
}

let db: TestFalkorDB;
let gateway: RunningGateway;
let dir: string;
let cliEnv: Record<string, string>;
const clients: Client[] = [];

before(async () => {
  db = await startTestFalkorDB();
  dir = await tempDir('messages-b-');
  const keyFile = await writeSigningKey(dir);
  gateway = await startTestGateway(db.url, {
    AUTH_SIGNING_KEY_FILE: keyFile,
    RATE_LIMIT_PLANS: 'tiny=2',
    RATE_LIMIT_BURST: '1',
    MAX_CONCURRENT_QUERIES_PER_TENANT: '1',
    MAX_CONCURRENT_QUERIES: '2',
    QUERY_QUEUE_TIMEOUT_MS: '200',
    SSE_MAX_SESSIONS_PER_DEVICE: '1',
    SSE_MAX_SESSIONS_PER_TENANT: '2',
    QUERY_MEMORY_MAX_BYTES: String(64 * 1024 * 1024),
  });
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent' };
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await db?.cleanup();
});

async function clientOf(tenant: string, scope = 'read write admin'): Promise<Client> {
  const client = await connectClient('http', gateway.url, await signTestToken(tenant, { scope }));
  await client.listTools();
  clients.push(client);
  return client;
}

async function toolError(client: Client, args: Record<string, unknown>, name = 'falkordb_query') {
  const outcome = await callTool(client, name, args);
  assert.equal(outcome.ok, false, outcome.text);
  return outcome.error;
}

/** Runs far past any time limit this file gives it. */
const HOLDING_QUERY = 'WITH range(1, 100000) AS r UNWIND r AS a UNWIND r AS x WITH x WHERE x < 0 RETURN count(x) AS n';

describe('before tenant acme is known', () => {
  it('TENANT_NOT_FOUND', async () => {
    const runs = await Promise.all([runCli(['tenant', 'show', 'acme'], cliEnv), runCli(['token', 'list', '--tenant', 'acme'], cliEnv)]);
    for (const done of runs) {
      assert.equal(done.code, 1, done.stderr);
      assertDocumentedMessage('TENANT_NOT_FOUND', cliMessage(done.stderr));
    }
  });
});

describe('tool errors', () => {
  let client: Client;
  before(async () => {
    client = await clientOf('acme');
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
  });

  it('INVALID_ARGUMENT', async () => {
    assertDocumented('INVALID_ARGUMENT', await toolError(client, { graphName: 'g', query: 'RETURN 1', readOnly: 'yes' }));
    assertDocumented('INVALID_ARGUMENT', await toolError(client, { graphName: 'g' }));
    assertDocumented('INVALID_ARGUMENT', await toolError(client, { graphName: 'g', query: 'RETURN 1\u0000' }));
  });

  it('GRAPH_NAME_INVALID', async () => {
    assertDocumented('GRAPH_NAME_INVALID', await toolError(client, { graphName: 'my graph', query: 'RETURN 1' }));
  });

  it('PARAMETERS_INVALID', async () => {
    assertDocumented('PARAMETERS_INVALID', await toolError(client, { graphName: 'g', query: 'RETURN 1', parameters: { 'user-id': 1 } }));
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    assertDocumented('PARAMETERS_INVALID', await toolError(client, { graphName: 'g', query: 'RETURN $rows', parameters: { rows: deep } }));
    assertDocumented('PARAMETERS_INVALID', await toolError(client, { graphName: 'g', query: 'RETURN $m', parameters: { m: { 'a`b': 1 } } }));
    assertDocumented('PARAMETERS_INVALID', await toolError(client, { graphName: 'g', query: 'RETURN $m', parameters: { m: { 'a\ud800b': 1 } } }));
    assertDocumented('PARAMETERS_INVALID', await toolError(client, { graphName: 'g', query: 'RETURN $v', parameters: { v: 'a\u0000b' } }));
    assertDocumented('PARAMETERS_INVALID', await toolError(client, { graphName: 'g', query: 'RETURN $v', parameters: { v: 'a\ud800b' } }));
  });

  it('PARAMETERS_TOO_LARGE', async () => {
    assertDocumented('PARAMETERS_TOO_LARGE', await toolError(client, { graphName: 'g', query: 'RETURN $blob', parameters: { blob: 'x'.repeat(80_000) } }));
  });

  it('QUERY_TOO_LONG', async () => {
    assertDocumented('QUERY_TOO_LONG', await toolError(client, { graphName: 'g', query: `RETURN '${'x'.repeat(120_000)}'` }));
  });

  it('QUERY_FORBIDDEN', async () => {
    assertDocumented('QUERY_FORBIDDEN', await toolError(client, { graphName: 'g', query: "LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row" }));
    assertDocumented('QUERY_FORBIDDEN', await toolError(client, { graphName: 'g', query: 'CREATE (:N)', readOnly: true }));
    await mustCall(client, 'falkordb_query', { graphName: 'read-tool', query: 'CREATE (:N)' });
    assertDocumented('QUERY_FORBIDDEN', await toolError(client, { graphName: 'read-tool', query: 'CREATE (:N)' }, 'falkordb_read_query'));
  });

  it('QUERY_TOO_COMPLEX', async () => {
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: `RETURN ${'('.repeat(24)}1${')'.repeat(24)}` }));
    const moderate = `${'('.repeat(10)}1${')'.repeat(10)}`;
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: `RETURN [${Array(300).fill(moderate).join(',')}]` }));
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: 'UNWIND range(1, 5000000000) AS x RETURN count(x)' }));
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: 'WITH 10000001 AS n RETURN size(range(1, n))' }));
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: 'RETURN size(reduce(acc = [1], i IN range(1, 40) | acc + acc)) AS n' }));
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: 'WITH range(1, 100000) AS a RETURN size([x IN a | [y IN a | 1]]) AS n' }));
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: `WITH [1] AS a ${'WITH a + a AS a '.repeat(30)}RETURN size(a) AS n` }));
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: 'MATCH (n) WITH collect(n) AS ns RETURN [x IN ns | [y IN ns | x = y]] AS pairs' }));
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: "MATCH (n) WITH collect(n.name) AS names RETURN reduce(s = '', w IN names | s + w) AS joined" }));
    assertDocumented('QUERY_TOO_COMPLEX', await toolError(client, { graphName: 'g', query: `WITH [1] AS xs RETURN ${Array(5).fill('size(range(0, size(xs) - 1))').join(' + ')} AS n` }));
  });

  it('RESULT_TOO_DEEP', async () => {
    assertDocumented('RESULT_TOO_DEEP', await toolError(client, { graphName: 'g', query: 'RETURN reduce(acc = [], i IN range(1, 1000) | [acc]) AS deep' }));
  });

  it('RESULT_TOO_LARGE', async () => {
    assertDocumented('RESULT_TOO_LARGE', await toolError(client, { graphName: 'g', query: 'UNWIND range(1, 10000) AS x RETURN range(1, 100) AS r' }));
    // A long list is cut to fit; only a row of very many columns is too large even then.
    // Wide characters: three bytes each in the JSON, one character of the query each (its limit counts characters).
    const columns = Array.from({ length: 3000 }, (_, i) => `s AS \`列列列列${i}\``).join(', ');
    assertDocumented('RESULT_TOO_LARGE', await toolError(client, { graphName: 'g', query: `WITH '${'値'.repeat(20)}' AS s RETURN ${columns}` }));
  });

  it('GRAPH_NOT_FOUND', async () => {
    assertDocumented('GRAPH_NOT_FOUND', await toolError(client, { graphName: 'sales', query: 'MATCH (n) RETURN n' }));
    assertDocumented('GRAPH_NOT_FOUND', await toolError(client, { graphName: 'sales', query: 'CREATE (n)' }, 'falkordb_read_query'));
    assertDocumented('GRAPH_NOT_FOUND', await toolError(client, { graphName: 'sales', query: 'MATCH (n) RETURN n' }, 'falkordb_explain'));
  });

  it('QUERY_FAILED', async () => {
    assertDocumented('QUERY_FAILED', await toolError(client, { graphName: 'g', query: 'MATCH (n) RETRN n' }));
    assertDocumented('QUERY_FAILED', await toolError(client, { graphName: 'g', query: 'RETURN foo(1)' }));
    assertDocumented('QUERY_FAILED', await toolError(client, { graphName: 'g', query: 'CREATE CONSTRAINT ON (p:P) ASSERT p.id IS UNIQUE' }));
    await mustCall(client, 'falkordb_query', { graphName: 'dupes', query: "CREATE (:Item {sku: 'a'}), (:Item {sku: 'a'})" });
    const unique = { graphName: 'dupes', kind: 'unique', entity: 'node', label: 'Item', properties: ['sku'] };
    assertDocumented('QUERY_FAILED', await toolError(client, unique, 'falkordb_create_constraint'));
  });

  it('QUERY_MEMORY_EXCEEDED', async () => {
    const query = 'UNWIND range(1, 3000) AS a UNWIND range(1, 3000) AS b WITH collect(a) AS c RETURN size(c) AS n';
    assertDocumented('QUERY_MEMORY_EXCEEDED', await toolError(client, { graphName: 'g', query }));
  });

  it('QUERY_TIMEOUT', async () => {
    assertDocumented('QUERY_TIMEOUT', await toolError(client, { graphName: 'g', query: HOLDING_QUERY, readOnly: true, timeoutMs: 50 }));
  });

  it('INTERNAL', async () => {
    assertDocumented('INTERNAL', await toolError(client, { graphName: 'g', query: 'RETURN date({year: 999999})' }));
  });

  it('TOO_MANY_QUERIES, for the tenant and for the instance', async () => {
    // Each holds one of the instance's 2 slots (and its tenant's one) until its 3 s time limit stops it.
    const holding = { graphName: 'g', query: HOLDING_QUERY, readOnly: true, timeoutMs: 3000 };
    const busy = await clientOf('busy');
    await mustCall(busy, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    const holders = [callTool(client, 'falkordb_query', holding), callTool(busy, 'falkordb_query', holding)];
    const firstRefusal = async (tenant: string) => {
      const other = await clientOf(tenant);
      for (let i = 0; i < 10; i++) {
        const outcome = await callTool(other, 'falkordb_query', { graphName: 'g', query: 'RETURN 1 AS one' });
        if (!outcome.ok) return outcome.error;
      }
      return undefined;
    };
    const forTenant = await firstRefusal('acme');
    const forInstance = await firstRefusal('third');
    await Promise.all(holders);
    assertDocumented('TOO_MANY_QUERIES', forTenant, 'for the tenant');
    assertDocumented('TOO_MANY_QUERIES', forInstance, 'for the instance');
    assert.notEqual(forTenant?.message, forInstance?.message);
  });
});

describe('HTTP refusals', () => {
  it('BODY_TOO_LARGE', async () => {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await signTestToken('http')}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(1_100_000) } }),
    });
    assert.equal(response.status, 413);
    assertDocumented('BODY_TOO_LARGE', refusal({ status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }));
  });

  it('REQUEST_INVALID over HTTP', async () => {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await signTestToken('http')}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc": "2.0", ',
    });
    assert.equal(response.status, 400);
    assertDocumented('REQUEST_INVALID', refusal({ status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }));
  });

  it('SESSION_UNKNOWN', async () => {
    const token = await signTestToken('http');
    const session = await openRawSse(gateway.url, token);
    try {
      const endpoint = new URL(session.endpoint, gateway.url);
      endpoint.searchParams.set('sessionId', '00000000-0000-4000-8000-000000000000');
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      assert.equal(response.status, 404);
      assertDocumented('SESSION_UNKNOWN', refusal({ status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }));
    } finally {
      session.close();
    }
  });

  it('SESSION_LIMIT, per device and per tenant', async () => {
    const device = (name: string) => signTestToken('acme', { claims: { device: name } });
    const refusedOpen = async (token: string) => {
      const response = await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(response.status, 429);
      return refusal({ status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> });
    };
    const open = [await openRawSse(gateway.url, await device('laptop'))];
    try {
      assertDocumented('SESSION_LIMIT', await refusedOpen(await device('laptop')), 'per device');
      // A subscriptions/listen stream on /mcp counts under the same caps.
      const listener = new ClientV2({ name: 'messages-b', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await listener.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${await device('laptop')}` } } }));
      try {
        const refused = await listener.listen({ resourceSubscriptions: ['falkordb://graphs'] }).then(
          () => assert.fail('a listen stream over the cap was accepted'),
          (e: { code?: unknown; message: string; data?: { code?: unknown } }) => e,
        );
        assert.equal(refused.code, -32603);
        assertDocumented('SESSION_LIMIT', { code: refused.data?.code, message: refused.message }, 'a listen stream per device');
      } finally {
        await listener.close();
      }
      open.push(await openRawSse(gateway.url, await device('phone')));
      assertDocumented('SESSION_LIMIT', await refusedOpen(await device('tablet')), 'per tenant');
    } finally {
      for (const session of open) session.close();
    }
  });

  it('GRANT_INVALID: reuse, unknown, revoked', async () => {
    const issued = await gateway.issuer!.issue({ tenant: 'acme', scopes: ['read'], device: 'ci-runner', withRefresh: true, actor: 'test' });
    const refresh = (token: string) => postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: token });
    const first = await refresh(issued.refreshToken!);
    assert.equal(first.status, 200);
    const grantError = (probe: Probe) => ({ code: 'GRANT_INVALID', message: probe.body['error_description'] });
    const reused = await refresh(issued.refreshToken!);
    assert.equal(reused.status, 400);
    assertDocumented('GRANT_INVALID', grantError(reused), 'reuse');
    // The reuse ended the whole chain, so the refresh token the first exchange gave is revoked too.
    const ended = await refresh(String(first.body['refresh_token']));
    assert.equal(ended.status, 400);
    assertDocumented('GRANT_INVALID', grantError(ended), 'revoked chain');
    const unknown = await refresh('not-a-refresh-token');
    assert.equal(unknown.status, 400);
    assertDocumented('GRANT_INVALID', grantError(unknown), 'unknown');
    const other = await gateway.issuer!.issue({ tenant: 'acme', scopes: ['read'], device: 'ci-runner', withRefresh: true, actor: 'test' });
    const revoked = await runCli(['token', 'revoke', '--device', 'ci-runner', '--tenant', 'acme'], cliEnv);
    assert.equal(revoked.code, 0, revoked.stderr);
    const afterRevoke = await refresh(other.refreshToken!);
    assert.equal(afterRevoke.status, 400);
    assertDocumented('GRANT_INVALID', grantError(afterRevoke), 'revoked device');
  });

  it('RATE_LIMITED', async () => {
    // The last HTTP use of acme: its plan allows 2 requests a minute plus 1.
    await gateway.state.tenants.add({ id: 'acme', plan: 'tiny' });
    // The plan is read again once the gateway's cached answer (no plan) has expired.
    await new Promise((resolve) => setTimeout(resolve, PLAN_CACHE_TTL_MS + 200));
    const token = await signTestToken('acme');
    let over: Probe | undefined;
    for (let i = 0; i < 10 && over === undefined; i++) {
      const answer = await probeMcp(gateway.url, token);
      if (answer.status === 429) over = answer;
    }
    assert.ok(over !== undefined, 'a request over the plan rate of 2 plus 1 is refused');
    assertDocumented('RATE_LIMITED', refusal(over));
  });
});

describe('commands', () => {
  const cli = async (args: string[], cwd?: string) => {
    const done = await runCli(args, cliEnv, undefined, cwd);
    assert.notEqual(done.code, 0, `${args.join(' ')} fails`);
    return cliMessage(done.stderr);
  };

  it('TENANT_EXISTS', async () => {
    // acme is registered by the rate-limit test above.
    assertDocumentedMessage('TENANT_EXISTS', await cli(['tenant', 'add', 'acme']));
  });

  it('TENANT_ID_INVALID', async () => {
    const messages = await Promise.all([cli(['tenant', 'add', 'x'.repeat(257)]), cli(['tenant', 'add', ''])]);
    for (const message of messages) assertDocumentedMessage('TENANT_ID_INVALID', message);
  });

  it('REQUEST_INVALID from commands', async () => {
    const messages = await Promise.all([
      cli(['token', 'issue', '--tenant', 'acme', '--scope', 'wirte']),
      cli(['token', 'issue', '--tenant', 'acme', '--ttl', '1 hour']),
      cli(['tenant', 'remove', 'acme']),
    ]);
    for (const message of messages) assertDocumentedMessage('REQUEST_INVALID', message);
  });

  it('TOKEN_NOT_FOUND', async () => {
    assertDocumentedMessage('TOKEN_NOT_FOUND', await cli(['token', 'revoke', '--jti', '3f1c…']));
  });

  it('GRAPH_EXISTS and TRANSFER_FILE_INVALID', async () => {
    // On the gateway's own connection: acme's HTTP budget is spent by now.
    await gateway.database.db.sendCommand(['GRAPH.QUERY', tenantGraphKey('acme', 'sales'), 'MERGE (a:N {v: 1}) MERGE (b:N {v: 2}) MERGE (a)-[:R]->(b)']);
    const exported = await runCli(['tenant', 'export', 'acme', '--graphs', 'sales', '--out', 'backup.jsonl'], cliEnv, undefined, dir);
    assert.equal(exported.code, 0, exported.stderr);
    assertDocumentedMessage('GRAPH_EXISTS', await cli(['tenant', 'import', 'acme', '--in', 'backup.jsonl'], dir));

    const lines = (await readFile(path.join(dir, 'backup.jsonl'), 'utf8')).trimEnd().split('\n');
    const node = lines.findIndex((line) => (JSON.parse(line) as { kind?: string }).kind === 'node');
    assert.ok(node > 0, 'the export has a node record');
    const relationship = lines.findIndex((line) => (JSON.parse(line) as { kind?: string }).kind === 'relationship');
    assert.ok(relationship > 0, 'the export has a relationship record');
    const edit = (at: number, change: object) => lines.map((line, i) => (i === at ? JSON.stringify({ ...(JSON.parse(line) as object), ...change }) : line));
    const edits: Array<[string, string[]]> = [
      ['cut-short', lines.slice(0, -1)],
      ['cut-in-a-line', lines.map((line, i) => (i === node ? line.slice(0, 10) : line))],
      ['float', edit(node, { properties: { price: 1.5 } })],
      ['newer-version', edit(0, { version: 2 })],
      ['node-missing', lines.filter((_, i) => i !== node)],
      ['beyond-the-nodes', edit(relationship, { to: 999 })],
      // Node ids 0 and 2: the count and the largest id are plausible, but the relationship's end (1) has no node.
      ['dangling', edit(node + 1, { id: 2 })],
    ];
    // Each in a folder of its own, all named backup.jsonl as in the docs, imported side by side.
    const messages = await Promise.all(
      edits.map(async ([what, edited]) => {
        await mkdir(path.join(dir, what));
        await writeFile(path.join(dir, what, 'backup.jsonl'), `${edited.join('\n')}\n`);
        return cli(['tenant', 'import', 'acme', '--in', 'backup.jsonl', '--rename-tenant', 'acme2'], path.join(dir, what));
      }),
    );
    for (const message of messages) assertDocumentedMessage('TRANSFER_FILE_INVALID', message);
  });

  it('STORAGE_QUOTA_EXCEEDED: a write, and tenant import already at the quota or past it with the file', async () => {
    await gateway.state.tenants.add({ id: 'widgets', storageQuotaBytes: 1024 * 1024 });
    await gateway.state.tenants.add({ id: 'globex', storageQuotaBytes: 512 * 1024 });
    // One small graph counts 1 MiB: widgets is at its quota.
    await gateway.database.db.sendCommand(['GRAPH.QUERY', tenantGraphKey('widgets', 'g'), 'CREATE (:N)']);
    const widgets = await clientOf('widgets');
    assertDocumented('STORAGE_QUOTA_EXCEEDED', await toolError(widgets, { graphName: 'g', query: 'CREATE (:N {v: 2})' }), 'write');
    await gateway.database.db.sendCommand(['GRAPH.QUERY', tenantGraphKey('quota-source', 'small'), 'CREATE (:N)']);
    await mkdir(path.join(dir, 'quota'));
    const exported = await runCli(['tenant', 'export', 'quota-source', '--out', 'small.jsonl'], cliEnv, undefined, path.join(dir, 'quota'));
    assert.equal(exported.code, 0, exported.stderr);
    for (const target of ['widgets', 'globex']) {
      assertDocumentedMessage('STORAGE_QUOTA_EXCEEDED', await cli(['tenant', 'import', 'quota-source', '--in', 'small.jsonl', '--rename-tenant', target], path.join(dir, 'quota')));
    }
  });

  it('STATE_CONFLICT: the record changes under every try', async () => {
    // The gateway's own store, where another writer rewrites the record just before each try.
    const store = gateway.state.store;
    const beaten = new Proxy(store, {
      get(target, property) {
        if (property === 'replaceIfUnchanged') {
          return async (key: string, expected: string, next: string) => {
            const current = (await target.get(key))!;
            const record = JSON.parse(current) as { updatedAt: number };
            assert.equal(await target.replaceIfUnchanged(key, current, JSON.stringify({ ...record, updatedAt: record.updatedAt + 1 })), true);
            return target.replaceIfUnchanged(key, expected, next);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await assert.rejects(new TenantRegistry(beaten).setEnabled('acme', false), (error: { code: string; message: string }) => {
      assertDocumented('STATE_CONFLICT', error);
      return true;
    });
    assert.equal((await gateway.state.tenants.get('acme'))?.status, 'enabled', 'nothing was changed');
  });

  it('STATE_RECORD_INVALID: a tenant record changed by hand', async () => {
    const key = stateKeys.tenant('acme');
    const stored = String(await gateway.database.db.sendCommand(['GET', key]));
    const edited = { ...(JSON.parse(stored) as Record<string, unknown>), allowIps: ['10.0.0.0/8', 'everywhere'] };
    await gateway.database.db.sendCommand(['SET', key, JSON.stringify(edited)]);
    try {
      assertDocumentedMessage('STATE_RECORD_INVALID', await cli(['tenant', 'show', 'acme']));
    } finally {
      await gateway.database.db.sendCommand(['SET', key, stored]);
    }
  });
});

describe('Sentinel mode', () => {
  let topology: Topology | undefined;
  let sentinelGateway: RunningGateway | undefined;
  let primary: TopologyNode | undefined;
  after(async () => {
    await sentinelGateway?.stop();
    await topology?.cleanup();
  });

  it('WRITE_NOT_REPLICATED: a primary with no replica, one required', async () => {
    // One primary, one sentinel watching it, and no replica to confirm a write.
    topology = await startTopology();
    primary = await topology.startNode();
    const sentinel = await topology.startSentinel(primary, { name: 'messages-b', quorum: 1, downAfterMs: 60_000, failoverTimeoutMs: 60_000 });
    sentinelGateway = await startTestGateway('', {
      FALKORDB_URL: '',
      FALKORDB_SENTINELS: `127.0.0.1:${sentinel.port}`,
      FALKORDB_SENTINEL_MASTER: 'messages-b',
      FALKORDB_SENTINEL_DATA_PASSWORD: topology.password,
      FALKORDB_SENTINEL_MIN_REPLICAS: '1',
      FALKORDB_SENTINEL_WAIT_TIMEOUT_MS: '200',
      // With no replica to fail over to, a lost primary is not waited for long.
      FALKORDB_SENTINEL_FAILOVER_WAIT_MS: '1000',
    });
    const client = await connectClient('http', sentinelGateway.url, await signTestToken('acme'));
    clients.push(client);
    assertDocumented('WRITE_NOT_REPLICATED', await toolError(client, { graphName: 'sales', query: 'CREATE (:N)' }));
  });

  it('WRITE_OUTCOME_UNKNOWN: the primary dies while a write runs', async () => {
    const client = await connectClient('http', sentinelGateway!.url, await signTestToken('acme'));
    clients.push(client);
    const write = callTool(client, 'falkordb_query', { graphName: 'sales', query: `${HOLDING_QUERY.replace(' RETURN count(x) AS n', '')} CREATE (:N)`, timeoutMs: 60_000 });
    // Once the write is running on the primary, the primary goes without a goodbye.
    await waitFor('the write running on the primary', async () => {
      // A connection blocked (flag b) in GRAPH.QUERY: the query is on the database's threads now.
      const clientList = String(await primary!.command(['CLIENT', 'LIST']));
      return clientList.split('\n').some((line) => /\bflags=\S*b/.test(line) && /\bcmd=graph\.query\b/i.test(line)) ? true : undefined;
    });
    await primary!.kill();
    const outcome = await write;
    assert.equal(outcome.ok, false, outcome.text);
    assertDocumented('WRITE_OUTCOME_UNKNOWN', outcome.error);
  });
});

describe('read replicas', () => {
  let topology: Topology | undefined;
  let replicaGateway: RunningGateway | undefined;
  after(async () => {
    await replicaGateway?.stop();
    await topology?.cleanup();
  });

  it('PRIMARY_UNAVAILABLE: a write while the primary is down', async () => {
    topology = await startTopology();
    const primary = await topology.startNode();
    const replica = await topology.startNode({ replicaOf: primary });
    replicaGateway = await startTestGateway(primary.url, { FALKORDB_REPLICA_URLS: replica.url, RATE_LIMIT_PER_MINUTE: '0' });
    const client = await connectClient('http', replicaGateway.url, await signTestToken('acme'));
    clients.push(client);
    const db = replicaGateway.database.db as { readReplicas?: string[] };
    await waitFor('the replica in the rotation', () => ((db.readReplicas ?? []).length > 0 ? true : undefined));
    await primary.kill();
    const error = await waitFor('a write refused for the lost primary', async () => {
      const refused = await toolError(client, { graphName: 'sales', query: 'CREATE (:N)' });
      if (refused?.code !== 'PRIMARY_UNAVAILABLE') throw new Error(`refused with ${JSON.stringify(refused)}`);
      return refused;
    }, 60_000);
    assertDocumented('PRIMARY_UNAVAILABLE', error);
    assertDocumented('PRIMARY_UNAVAILABLE', await toolError(client, { graphName: 'sales', query: 'MATCH (n) RETURN n' }, 'falkordb_explain'));
  });
});

it('covers exactly the codes of this file', () => {
  assert.deepEqual([...produced].sort(), [...COVERED].sort(), 'every covered code was produced and checked');
  // Every example of a section was produced; QUERY_FAILED's section also quotes the query `MATCH (n) RETRN n`, which is no message.
  for (const code of COVERED) {
    const examples = documentedMessages(code);
    const unmatched = examples.filter((_, i) => !matched.get(code)?.has(i));
    assert.deepEqual(unmatched, code === 'QUERY_FAILED' ? ['MATCH (n) RETRN n'] : [], `${code}: examples no test produced`);
  }
});
