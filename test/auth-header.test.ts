// AUTH_HEADER_NAME: a gateway behind a proxy that keeps `Authorization` for
// itself reads the bearer token from another header, through real MCP clients
// (Streamable HTTP and SSE) on a real FalkorDB. A token in `Authorization` is
// then ignored, the refusals and their WWW-Authenticate answer stay as they
// were, and client-config writes the configured header.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadConfig } from '../src/config/index.js';
import type { RunningGateway } from '../src/main.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const HEADER = 'X-Gateway-Authorization';

let db: TestFalkorDB;
let gateway: RunningGateway;
let dir: string;
let cliEnv: Record<string, string>;
const clients: Client[] = [];

before(async () => {
  db = await startTestFalkorDB();
  dir = await tempDir('auth-header-');
  const keyFile = await writeSigningKey(dir);
  gateway = await startTestGateway(db.url, { AUTH_HEADER_NAME: HEADER, AUTH_SIGNING_KEY_FILE: keyFile });
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, AUTH_HEADER_NAME: HEADER, LOG_LEVEL: 'silent' };
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await gateway?.stop();
  await db?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function connect(transport: 'http' | 'sse', headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'auth-header-test', version: '1.0.0' });
  const requestInit = { headers };
  await client.connect(transport === 'http' ? new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit }) : new SSEClientTransport(new URL(`${gateway.url}/sse`), { requestInit }));
  clients.push(client);
  return client;
}

async function post(headers: Record<string, string>): Promise<{ status: number; wwwAuthenticate: string | null; body: { code?: string; message?: string } }> {
  const response = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1.0.0' } } }),
  });
  return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: (await response.json()) as { code?: string; message?: string } };
}

describe('AUTH_HEADER_NAME', () => {
  it('takes the token from the configured header over Streamable HTTP', async () => {
    const client = await connect('http', { [HEADER]: `Bearer ${await signTestToken('hdr-http')}` });
    const out = await mustCall(client, 'falkordb_list_graphs');
    assert.deepEqual(out.graphs, []);
  });

  it('takes the token from the configured header over SSE, for the stream and every post', async () => {
    const client = await connect('sse', { [HEADER]: `Bearer ${await signTestToken('hdr-sse')}` });
    const out = await mustCall(client, 'falkordb_list_graphs');
    assert.deepEqual(out.graphs, []);
  });

  it('reads the header name in any case, as HTTP does', async () => {
    const client = await connect('http', { [HEADER.toLowerCase()]: `Bearer ${await signTestToken('hdr-case')}` });
    await mustCall(client, 'falkordb_health');
  });

  it('ignores a token in Authorization: the request is refused as carrying none, with the same WWW-Authenticate answer', async () => {
    const token = await signTestToken('hdr-ignored');
    const refused = await post({ Authorization: `Bearer ${token}` });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.code, 'TOKEN_MISSING');
    assert.match(refused.body.message ?? '', new RegExp(`send "${HEADER}: Bearer <token>"`));
    assert.match(refused.wwwAuthenticate ?? '', /^Bearer /);
    assert.match(refused.wwwAuthenticate ?? '', /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource/);
    await assert.rejects(connect('http', { Authorization: `Bearer ${token}` }));
    await assert.rejects(connect('sse', { Authorization: `Bearer ${token}` }));
  });

  it('leaves the proxy its own Authorization: a request carrying both is judged by the configured header alone', async () => {
    const client = await connect('http', { Authorization: 'Basic cHJveHk6c2VjcmV0', [HEADER]: `Bearer ${await signTestToken('hdr-both')}` });
    await mustCall(client, 'falkordb_health');
    const wrong = await post({ Authorization: `Bearer ${await signTestToken('hdr-both')}`, [HEADER]: 'Bearer not-a-jwt' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, 'TOKEN_MALFORMED');
  });

  it('keeps the bearer scheme: a header without "Bearer " is malformed, named in the message', async () => {
    const refused = await post({ [HEADER]: await signTestToken('hdr-scheme') });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.code, 'TOKEN_MALFORMED');
    assert.equal(refused.body.message, `The ${HEADER} header must read "Bearer <token>".`);
  });

  it('client-config writes the token into the configured header, and a real client gets in with that entry', async () => {
    const printed = await runCliJson<{ config: { mcpServers: Record<string, { url: string; headers: Record<string, string> }> } }>(
      ['client-config', '--client', 'cursor', '--tenant', 'hdr-cc', '--device', 'hdr-cursor', '--url', gateway.url, '--json'],
      cliEnv,
    );
    const entry = printed.config.mcpServers['falkordb'];
    assert.deepEqual(Object.keys(entry?.headers ?? {}), [HEADER]);
    const client = await connect('http', entry?.headers ?? {});
    await mustCall(client, 'falkordb_health');

    const generic = await runCli(['client-config', '--client', 'generic', '--tenant', 'hdr-cc', '--device', 'hdr-generic', '--url', gateway.url], cliEnv);
    assert.equal(generic.code, 0, generic.stderr);
    assert.match(generic.stdout, new RegExp(`^  Header:  ${HEADER}: Bearer \\S+$`, 'm'));

    const desktop = await runCliJson<{ config: { mcpServers: Record<string, { args: string[] }> } }>(
      ['client-config', '--client', 'claude-desktop', '--tenant', 'hdr-cc', '--device', 'hdr-desktop', '--url', gateway.url, '--json'],
      cliEnv,
    );
    assert.ok(desktop.config.mcpServers['falkordb']?.args.includes(`${HEADER}:\${AUTH_HEADER}`));
  });
});

describe('AUTH_HEADER_NAME in the configuration', () => {
  it('is Authorization by default', () => {
    assert.equal(loadConfig({}).auth.headerName, 'Authorization');
  });

  it('refuses a name that is not an HTTP header name, saying what one is', () => {
    for (const bad of ['X Gateway Auth', 'X-Auth:', 'Ünïcode']) {
      assert.throws(
        () => loadConfig({ AUTH_HEADER_NAME: bad }),
        (e: Error & { code?: string }) =>
          e.code === 'CONFIG_INVALID' &&
          e.message.startsWith(`AUTH_HEADER_NAME (got ${JSON.stringify(bad)}) must be an HTTP header name: letters, digits and`) &&
          /for example AUTH_HEADER_NAME=X-Gateway-Authorization/.test(e.message),
      );
    }
  });

  it('refuses a header HTTP, MCP or the gateway reads for something else', () => {
    for (const taken of ['Host', 'content-type', 'Mcp-Session-Id', 'X-Forwarded-For', 'Cookie']) {
      assert.throws(() => loadConfig({ AUTH_HEADER_NAME: taken }), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /already reads for something else/.test(e.message));
    }
  });
});
