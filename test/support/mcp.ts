// Real MCP clients (the SDK's Client) over each transport the gateway serves.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import path from 'node:path';

export type TransportKind = 'http' | 'sse-header' | 'sse-query' | 'stdio';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CLI_ENTRY = path.join(REPO_ROOT, 'src', 'cli', 'index.ts');

export async function connectClient(kind: Exclude<TransportKind, 'stdio'>, baseUrl: string, token: string): Promise<Client> {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  const headers = { Authorization: `Bearer ${token}` };
  if (kind === 'http') {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers } }));
  } else if (kind === 'sse-header') {
    await client.connect(new SSEClientTransport(new URL(`${baseUrl}/sse`), { requestInit: { headers } }));
  } else {
    await client.connect(new SSEClientTransport(new URL(`${baseUrl}/sse/?token=${encodeURIComponent(token)}`)));
  }
  return client;
}

/** `stdio --tenant` as a child process, the way a desktop client starts it. */
export async function connectStdioClient(tenant: string, env: Record<string, string>, scope = 'read write admin'): Promise<Client> {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', CLI_ENTRY, 'stdio', '--tenant', tenant, '--scope', scope],
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    cwd: REPO_ROOT,
    stderr: 'pipe',
  });
  await client.connect(transport);
  return client;
}

export interface ToolOutcome {
  ok: boolean;
  structured: Record<string, unknown> | undefined;
  text: string;
  error?: { code: string; message: string };
}

/**
 * Calls falkordb_health every 100 ms until the call is refused (a revocation reaching the
 * gateway), for at most 4 s; the refusal's text, or '' when every call still succeeded.
 */
export async function untilRefused(client: Client): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const outcome = await callTool(client, 'falkordb_health').catch((error: unknown) => ({ ok: false, text: String(error) }));
    if (!outcome.ok) return outcome.text;
    await new Promise((r) => setTimeout(r, 100));
  }
  return '';
}

export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolOutcome> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  if (result.isError) {
    let error: { code: string; message: string } = { code: 'UNKNOWN', message: text };
    try {
      error = (JSON.parse(text) as { error: { code: string; message: string } }).error;
    } catch {
      // SDK-side errors (input validation) are plain text
    }
    return { ok: false, structured: undefined, text, error };
  }
  return { ok: true, structured: result.structuredContent as Record<string, unknown>, text };
}

/** Calls a tool that must succeed; returns its structuredContent. */
export async function mustCall(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const outcome = await callTool(client, name, args);
  if (!outcome.ok) throw new Error(`${name} failed: ${outcome.text}`);
  return outcome.structured ?? {};
}
