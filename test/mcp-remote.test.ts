// Claude Desktop's path end to end: the real mcp-remote, started with exactly the
// command, args and env that `client-config --client claude-desktop` prints
// (with `npx -y mcp-remote` pointed at the installed binary), in front of a gateway.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { RunningGateway } from '../src/main.js';
import { runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { REPO_ROOT, mustCall } from './support/mcp.js';

const MCP_REMOTE = path.join(REPO_ROOT, 'node_modules', '.bin', 'mcp-remote');

interface DesktopEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

interface DesktopConfigJson {
  token: string;
  config: { mcpServers: Record<string, DesktopEntry> };
  alternative: { mcpServers: Record<string, DesktopEntry> };
}

let db: TestFalkorDB;
let gateway: RunningGateway;
let keyDir: string;
let home: string;
let cliEnv: Record<string, string>;

before(async () => {
  db = await startTestFalkorDB();
  keyDir = await tempDir();
  gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: await writeSigningKey(keyDir) });
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: path.join(keyDir, 'signing.pem'), LOG_LEVEL: 'silent' };
  // mcp-remote keeps OAuth state under ~/.mcp-auth and may open a browser: keep both away from the real home.
  home = await tempDir('mcp-remote-home-');
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
  await rm(keyDir, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

async function desktopConfig(device: string): Promise<DesktopConfigJson> {
  return runCliJson<DesktopConfigJson>(['client-config', '--client', 'claude-desktop', '--tenant', 'remote-acme', '--device', device, '--url', gateway.url, '--json'], cliEnv);
}

/** Starts mcp-remote the way Claude Desktop starts the entry, and speaks MCP to it over stdio. */
async function connectThroughMcpRemote(entry: DesktopEntry): Promise<{ client: Client; stderr: () => string }> {
  assert.equal(entry.command, 'npx');
  assert.deepEqual(entry.args.slice(0, 2), ['-y', 'mcp-remote']);
  const transport = new StdioClientTransport({
    command: MCP_REMOTE,
    args: entry.args.slice(2),
    env: { PATH: process.env.PATH ?? '', HOME: home, MCP_REMOTE_CONFIG_DIR: path.join(home, '.mcp-auth'), BROWSER: 'false', ...entry.env },
    cwd: home,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close();
    throw new Error(`mcp-remote did not connect: ${String(error)}\n${stderr}`);
  }
  return { client, stderr: () => stderr };
}

async function listWriteAndRead(client: Client, graphName: string): Promise<void> {
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  // client-config's token has "read write": every tool but the admin one.
  assert.deepEqual(tools, ['falkordb_create_constraint', 'falkordb_drop_constraint', 'falkordb_explain', 'falkordb_graph_schema', 'falkordb_health', 'falkordb_list_graphs', 'falkordb_query', 'falkordb_read_query', 'falkordb_server_info']);
  await mustCall(client, 'falkordb_query', { graphName, query: 'CREATE (:Note {text: $text})', parameters: { text: `written through mcp-remote to ${graphName}` } });
  const read = await mustCall(client, 'falkordb_query', { graphName, query: 'MATCH (n:Note) RETURN n.text AS text' });
  assert.deepEqual(read.rows, [{ text: `written through mcp-remote to ${graphName}` }]);
  assert.equal((await mustCall(client, 'falkordb_server_info')).tenant, 'remote-acme');
}

describe('Claude Desktop through mcp-remote', () => {
  it('lists the tools and writes and reads a graph with the Authorization header from env on /mcp', async () => {
    const printed = await desktopConfig('desktop-header');
    const entry = printed.config.mcpServers['falkordb'];
    assert.ok(entry, JSON.stringify(printed.config));
    assert.ok(entry.args.includes(`${gateway.url}/mcp`), entry.args.join(' '));
    // The token reaches mcp-remote only through env, as Claude Desktop passes it.
    assert.ok(!entry.args.join(' ').includes(printed.token));
    const { client, stderr } = await connectThroughMcpRemote(entry);
    try {
      await listWriteAndRead(client, 'via-header');
      assert.match(stderr(), /StreamableHTTPClientTransport/, 'mcp-remote used Streamable HTTP');
    } finally {
      await client.close();
    }
  });

  it('lists the tools and writes and reads a graph with the token on the legacy /sse/ URL', async () => {
    const printed = await desktopConfig('desktop-sse');
    const entry = printed.alternative.mcpServers['falkordb'];
    assert.ok(entry, JSON.stringify(printed.alternative));
    assert.ok(entry.args.includes(`${gateway.url}/sse/?token=${encodeURIComponent(printed.token)}`), entry.args.join(' '));
    const { client, stderr } = await connectThroughMcpRemote(entry);
    try {
      await listWriteAndRead(client, 'via-sse');
      assert.match(stderr(), /SSEClientTransport/, 'mcp-remote used the legacy SSE transport');
    } finally {
      await client.close();
    }
  });

  it('starts no OAuth sign-in of its own when the gateway accepts the configured token', async () => {
    const printed = await desktopConfig('desktop-no-oauth');
    const { client, stderr } = await connectThroughMcpRemote(printed.config.mcpServers['falkordb']!);
    await client.listTools();
    await client.close();
    assert.doesNotMatch(stderr(), /Authentication required|authorization URL|Opening browser/i);
    const stored = await readdir(path.join(home, '.mcp-auth'), { recursive: true }).catch(() => [] as string[]);
    assert.deepEqual(stored.filter((f) => /tokens\.json$|client_info\.json$|code_verifier/.test(f)), []);
  });
});
