// `stdio --tenant` as a desktop client runs it: every tool call audited (the
// shared stream and AUDIT_LOG_FILE) and counted, the tenant registry checked
// on every call as HTTP does; and, started from another working folder through
// the entry `client-config --transport stdio` prints, the right database.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { AuditEvent } from '../src/observability/audit.js';
import type { UsageRow } from '../src/observability/usage-read.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { tempDir } from './support/keys.js';
import { callTool, CLI_ENTRY, connectStdioClient, mustCall, REPO_ROOT, type ToolOutcome } from './support/mcp.js';

const TSX = import.meta.resolve('tsx');

/** A stdio server driven by hand over its pipes, so the test sees every byte of stdout and can wait for a clean exit. */
class RawStdio {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  #nextId = 1;

  constructor(tenant: string, env: Record<string, string>, cwd: string) {
    this.child = spawn(process.execPath, ['--import', TSX, CLI_ENTRY, 'stdio', '--tenant', tenant, '--scope', 'read write'], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Sends a request and resolves with its reply, read from stdout. */
  async request(method: string, params: object): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const reply = this.messages().find((m) => m['id'] === id);
      if (reply !== undefined) return reply;
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no reply to ${method}; stderr: ${this.stderr.slice(-1000)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async initialize(): Promise<void> {
    await this.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'stdio-test', version: '1' } });
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  }

  /** Calls a tool; resolves with whether it failed and its structured result or error. */
  async call(name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; text: string }> {
    const reply = await this.request('tools/call', { name, arguments: args });
    const result = reply['result'] as { isError?: boolean; content: Array<{ text: string }> };
    return { isError: result.isError === true, text: result.content.map((c) => c.text).join('') };
  }

  /** Every stdout line as JSON; throws if one is not. */
  messages(): Array<Record<string, unknown>> {
    return this.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Closes stdin as a client does when it quits, and waits for the process to end by itself. */
  async end(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }
}

/** Retries `attempt` until `done` holds for its result (the registry's answers are reused for up to a second). */
async function eventually<T>(attempt: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await attempt();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function auditOf(tenant: string, env: Record<string, string>): Promise<AuditEvent[]> {
  const done = await runCli(['audit', 'tail', '--tenant', tenant, '--json'], env);
  assert.equal(done.code, 0, done.stderr);
  return done.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEvent);
}

describe('stdio: audit, usage and the tenant registry, as on HTTP', () => {
  let db: TestFalkorDB;
  let dir: string;
  let auditFile: string;
  let env: Record<string, string>;

  before(async () => {
    db = await startTestFalkorDB();
    dir = await tempDir('stdio-recorded-');
    auditFile = path.join(dir, 'audit.log');
    env = { FALKORDB_URL: db.url, LOG_LEVEL: 'warn' };
  });

  after(async () => {
    await db?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an audit event for every tool call to the shared stream and AUDIT_LOG_FILE, and its usage counters, all flushed by the time it exits', async () => {
    const tenant = 'stdio-recorded';
    const server = new RawStdio(tenant, { ...env, AUDIT_LOG_FILE: auditFile }, REPO_ROOT);
    await server.initialize();
    assert.equal((await server.call('falkordb_query', { graphName: 'kept', query: "CREATE (:N {name: 'a'}), (:N {name: 'b'})" })).isError, false);
    assert.equal((await server.call('falkordb_query', { graphName: 'kept', query: 'MATCH (n:N) RETURN n.name AS name' })).isError, false);
    assert.equal((await server.call('falkordb_query', { graphName: 'kept', query: 'MATCH (n RETURN n' })).isError, true);
    assert.equal((await server.call('falkordb_list_graphs')).isError, false);
    assert.equal(await server.end(), 0, server.stderr);

    const expected = [
      { event: 'query_success', tool: 'falkordb_query', errorCode: undefined },
      { event: 'query_success', tool: 'falkordb_query', errorCode: undefined },
      { event: 'query_error', tool: 'falkordb_query', errorCode: 'QUERY_FAILED' },
      { event: 'query_success', tool: 'falkordb_list_graphs', errorCode: undefined },
    ];
    const shape = (e: AuditEvent) => ({ event: e.event, tool: e.tool, errorCode: e.errorCode });
    const streamed = await auditOf(tenant, env);
    assert.deepEqual(streamed.map(shape), expected);
    for (const event of streamed) {
      assert.equal(event.tenant, tenant);
      assert.equal(event.device, 'stdio');
    }
    assert.deepEqual(streamed.slice(0, 3).map((e) => e.graph), ['kept', 'kept', 'kept']);
    assert.equal(streamed[1]?.rowCount, 2);
    const filed = (await readFile(auditFile, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEvent);
    assert.deepEqual(filed, streamed);

    // Two days, added up: the calls may fall on both sides of midnight UTC.
    const rows = await runCliJson<UsageRow[]>(['tenant', 'usage', '--tenant', tenant, '--days', '2', '--json'], env);
    assert.ok(rows.length >= 1 && rows.length <= 2, JSON.stringify(rows));
    const total = { tenant, requests: 0, queries: 0, writes: 0, errors: 0, rows: 0 };
    let queryMs = 0;
    for (const row of rows) {
      assert.equal(row.tenant, tenant);
      for (const name of ['requests', 'queries', 'writes', 'errors', 'rows'] as const) total[name] += row[name];
      queryMs += row.queryMs;
    }
    assert.deepEqual(total, { tenant, requests: 4, queries: 3, writes: 1, errors: 1, rows: 2 });
    assert.ok(queryMs > 0, `queryMs ${queryMs}`);
  });

  it('refuses every call of a disabled tenant with TENANT_DISABLED, checked per call, and serves it again after `tenant enable`', async () => {
    const tenant = 'stdio-switched';
    assert.equal((await runCli(['tenant', 'add', tenant], env)).code, 0);
    const client = await connectStdioClient(tenant, env);
    try {
      await mustCall(client, 'falkordb_list_graphs');
      const disabled = await runCli(['tenant', 'disable', tenant], env);
      assert.equal(disabled.code, 0, disabled.stderr);
      const refused = await eventually(() => callTool(client, 'falkordb_list_graphs'), (o: ToolOutcome) => !o.ok, 'the disabled tenant to be refused');
      assert.equal(refused.error?.code, 'TENANT_DISABLED');
      assert.match(refused.error?.message ?? '', /^Tenant "stdio-switched" is disabled on this gateway since .*; ask the operator to enable it\.$/);
      assert.equal((await callTool(client, 'falkordb_query', { graphName: 'never', query: 'CREATE (:N)' })).error?.code, 'TENANT_DISABLED');

      const enabled = await runCli(['tenant', 'enable', tenant], env);
      assert.equal(enabled.code, 0, enabled.stderr);
      await eventually(() => callTool(client, 'falkordb_list_graphs'), (o: ToolOutcome) => o.ok, 'the enabled tenant to be served');
      assert.deepEqual((await mustCall(client, 'falkordb_list_graphs')).graphs, []);
    } finally {
      await client.close();
    }
    const denied = (await auditOf(tenant, env)).filter((e) => e.event === 'denied');
    assert.ok(denied.length >= 2 && denied.every((e) => e.errorCode === 'TENANT_DISABLED'), JSON.stringify(denied));
  });

  it('refuses a tenant missing from the registry when TENANTS_REQUIRE_REGISTRATION=true, as HTTP does', async () => {
    const client = await connectStdioClient('stdio-unlisted', { ...env, TENANTS_REQUIRE_REGISTRATION: 'true' });
    try {
      const refused = await callTool(client, 'falkordb_list_graphs');
      assert.equal(refused.error?.code, 'TENANT_NOT_REGISTERED');
      assert.match(refused.error?.message ?? '', /^Tenant "stdio-unlisted" is not registered on this gateway; ask the operator to add it\.$/);
    } finally {
      await client.close();
    }
  });

  it("applies the tenant's graph rules from the registry", async () => {
    const tenant = 'stdio-ruled';
    assert.equal((await runCli(['tenant', 'add', tenant], env)).code, 0);
    const client = await connectStdioClient(tenant, env);
    try {
      await mustCall(client, 'falkordb_query', { graphName: 'sales_eu', query: 'CREATE (:Sale)' });
      await mustCall(client, 'falkordb_query', { graphName: 'staging', query: 'CREATE (:Sale)' });
      const granted = await runCli(['tenant', 'grant', tenant, '--scope', 'read', '--graphs', 'sales_*'], env);
      assert.equal(granted.code, 0, granted.stderr);
      const listed = (o: ToolOutcome) => JSON.stringify(o.structured?.['graphs']);
      await eventually(() => callTool(client, 'falkordb_list_graphs'), (o: ToolOutcome) => listed(o) === '["sales_eu"]', 'the rule to hide staging');
      assert.equal((await callTool(client, 'falkordb_query', { graphName: 'staging', query: 'MATCH (n) RETURN count(n) AS n', readOnly: true })).error?.code, 'GRAPH_FORBIDDEN');
    } finally {
      await client.close();
    }
  });
});

describe('stdio started by a client from another working folder', () => {
  let dir: string;
  let operator: string;
  let elsewhere: string;

  before(async () => {
    dir = await tempDir('stdio-cwd-');
    operator = path.join(dir, 'operator');
    elsewhere = path.join(dir, 'client-cwd');
    await mkdir(operator);
    await mkdir(elsewhere);
  });

  after(async () => {
    // A server left running by a process that was cut off (it would keep the folder busy).
    for (const folder of [path.join(operator, '.data'), path.join(elsewhere, '.data')]) {
      const state = await readFile(path.join(folder, 'embedded.json'), 'utf8').then((t) => JSON.parse(t) as { serverPid: number }).catch(() => undefined);
      if (state !== undefined) {
        try {
          process.kill(state.serverPid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('says on stderr, in one line, that it created a new empty database and where, with nothing but MCP on stdout', async () => {
    const server = new RawStdio('stdio-cwd', { LOG_LEVEL: 'warn' }, operator);
    await server.initialize();
    assert.equal((await server.call('falkordb_query', { graphName: 'kept', query: 'CREATE (:N)' })).isError, false);
    assert.equal(await server.end(), 0, server.stderr);
    const dataDir = path.join(operator, '.data');
    const notices = server.stderr.split('\n').filter((l) => /new, empty/.test(l));
    assert.equal(notices.length, 1, server.stderr);
    assert.ok(notices[0]!.includes(` ${dataDir},`), notices[0]);
    assert.match(notices[0]!, /FALKORDB_DATA_DIR to its absolute path, or FALKORDB_URL/);
    assert.ok(server.messages().every((m) => m['jsonrpc'] === '2.0'));
    assert.equal(server.messages().length, 2);
  });

  it('client-config --transport stdio prints an entry with absolute paths that, started from another folder, reaches the same data', async () => {
    // Run where the operator's data is, with FALKORDB_DATA_DIR left at its default ./.data.
    const printed = await runCli(['client-config', '--client', 'claude-desktop', '--transport', 'stdio', '--tenant', 'stdio-cwd', '--json'], { LOG_LEVEL: 'silent' }, undefined, operator);
    assert.equal(printed.code, 0, printed.stderr);
    const { config } = JSON.parse(printed.stdout) as { config: { mcpServers: { falkordb: { command: string; args: string[]; env: Record<string, string> } } } };
    const entry = config.mcpServers.falkordb;
    assert.ok(path.isAbsolute(entry.command), entry.command);
    assert.equal(entry.env['FALKORDB_DATA_DIR'], path.join(operator, '.data'));
    const stdioAt = entry.args.indexOf('stdio');
    assert.deepEqual(entry.args.slice(stdioAt), ['stdio', '--tenant', 'stdio-cwd', '--scope', 'read write']);
    for (const arg of entry.args.slice(0, stdioAt).filter((a) => !a.startsWith('--'))) {
      assert.ok(path.isAbsolute(arg.startsWith('file:') ? new URL(arg).pathname : arg), `not absolute: ${arg}`);
    }

    const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: { PATH: process.env.PATH ?? '', ...entry.env }, cwd: elsewhere, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'desktop-like', version: '1.0.0' });
    await client.connect(transport);
    try {
      assert.deepEqual((await mustCall(client, 'falkordb_list_graphs')).graphs, ['kept']);
    } finally {
      await client.close();
    }
    assert.equal(existsSync(path.join(elsewhere, '.data')), false, 'no data folder in the client\'s working folder');
    assert.doesNotMatch(stderr, /new, empty/);
  });
});
