// Real MCP clients of every kind the gateway serves, seen through the methods
// resources, prompts and completions share: the SDK v2 client in its 2025
// mode and pinned to 2026-07-28 over /mcp and stdio, the SDK v1 client over
// /mcp, /sse and stdio.

import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import { after, before } from 'node:test';
import type { RunningGateway } from '../../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './falkordb.js';
import { startTestGateway } from './gateway.js';
import { CLI_ENTRY, REPO_ROOT, connectClient, connectStdioClient, mustCall } from './mcp.js';
import { signTestToken } from './tokens.js';

export const MODERN = '2026-07-28';

export type ClientKind = 'v2 2025 /mcp' | 'v2 2026-07-28 /mcp' | 'v1 /mcp' | 'v1 /sse' | 'v1 stdio' | 'v2 2026-07-28 stdio';
export const CLIENT_KINDS: readonly ClientKind[] = ['v2 2025 /mcp', 'v2 2026-07-28 /mcp', 'v1 /mcp', 'v1 /sse', 'v1 stdio', 'v2 2026-07-28 stdio'];

interface TextContents {
  uri: string;
  mimeType?: string;
  text?: string;
}

/** What the tests use of a client; the v1 and v2 clients both have these methods. */
export interface ContentClient {
  getServerCapabilities(): Record<string, unknown> | undefined;
  listResources(params?: { cursor?: string }): Promise<{ resources: Array<{ uri: string; name: string; mimeType?: string; description?: string }>; nextCursor?: string }>;
  listResourceTemplates(): Promise<{ resourceTemplates: Array<{ uriTemplate: string; name: string; mimeType?: string }> }>;
  readResource(params: { uri: string }): Promise<{ contents: TextContents[] }>;
  listPrompts(): Promise<{ prompts: Array<{ name: string; description?: string; arguments?: Array<{ name: string; required?: boolean }> }> }>;
  getPrompt(params: { name: string; arguments?: Record<string, string> }): Promise<{ messages: Array<{ role: string; content: Record<string, unknown> }> }>;
  complete(params: {
    ref: { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string };
    argument: { name: string; value: string };
  }): Promise<{ completion: { values: string[]; total?: number; hasMore?: boolean } }>;
  close(): Promise<void>;
}

export interface ContentTarget {
  baseUrl: string;
  falkordbUrl: string;
}

/**
 * A client of `kind` for `token`'s tenant; over stdio the tenant and scope are
 * given instead (stdio has no token).
 */
export async function connectContentClient(kind: ClientKind, target: ContentTarget, token: string, stdio: { tenant: string; scope: string }): Promise<ContentClient> {
  if (kind === 'v2 2025 /mcp' || kind === 'v2 2026-07-28 /mcp') {
    const mode = kind === 'v2 2025 /mcp' ? 'legacy' : { pin: MODERN };
    const client = new ClientV2({ name: 'content-test', version: '1.0.0' }, { versionNegotiation: { mode } });
    await client.connect(new HttpTransportV2(new URL(`${target.baseUrl}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    return client as unknown as ContentClient;
  }
  if (kind === 'v2 2026-07-28 stdio') {
    const client = new ClientV2({ name: 'content-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(
      new StdioTransportV2({
        command: process.execPath,
        args: ['--import', 'tsx', CLI_ENTRY, 'stdio', '--tenant', stdio.tenant, '--scope', stdio.scope],
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', FALKORDB_URL: target.falkordbUrl },
        cwd: REPO_ROOT,
        stderr: 'pipe',
      }),
    );
    return client as unknown as ContentClient;
  }
  if (kind === 'v1 stdio') return (await connectStdioClient(stdio.tenant, { FALKORDB_URL: target.falkordbUrl }, stdio.scope)) as unknown as ContentClient;
  return (await connectClient(kind === 'v1 /mcp' ? 'http' : 'sse-header', target.baseUrl, token)) as unknown as ContentClient;
}

/** The JSON-RPC error a request failed with: its code and its message without the client's "MCP error N:" prefix. */
export async function rpcFailure(request: Promise<unknown>): Promise<{ code: number; message: string; data: unknown }> {
  try {
    await request;
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown; data?: unknown };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, message: String(e.message).replace(/^MCP error -?\d+: /, ''), data: e.data };
  }
  throw new Error('the request was expected to fail');
}

/** The two tenants of the content tests: A, whose client is tested, and B, of which A must never see anything. */
export const TENANT_A = 'content-a';
export const TENANT_B = 'content-b';
/** Anything of B's (graph names, labels, property keys, its tenant id) or a key prefix, in what A is given. */
export const LEAK = /secret-b|SecretB|bsecret|BLabel|bprop|content-b|content-a_/;

/**
 * Gives A the graphs `movies` (with an index) and `common`, and B the graphs
 * `secret-b` and a `common` of its own, through the gateway's tools.
 */
export async function seedTwoTenants(baseUrl: string, tokenA: string, tokenB: string): Promise<void> {
  const a = await connectClient('http', baseUrl, tokenA);
  await mustCall(a, 'falkordb_query', { graphName: 'movies', query: "CREATE (:Movie {title: 'Heat', year: 1995})<-[:ACTED_IN {role: 'Neil'}]-(:Person {name: 'Robert'})" });
  await mustCall(a, 'falkordb_query', { graphName: 'movies', query: 'CREATE INDEX FOR (m:Movie) ON (m.title)' });
  await mustCall(a, 'falkordb_query', { graphName: 'common', query: 'CREATE (:ALabel {aprop: 1})' });
  await a.close();
  const b = await connectClient('http', baseUrl, tokenB);
  await mustCall(b, 'falkordb_query', { graphName: 'secret-b', query: 'CREATE (:SecretB {bsecret: 1})' });
  await mustCall(b, 'falkordb_query', { graphName: 'common', query: 'CREATE (:BLabel {bprop: 2})' });
  await b.close();
}

/** What the two-tenant tests share: a gateway on a FalkorDB, the seeded tenants' tokens, and tenant A's clients of each kind. */
export interface TwoTenants {
  readonly db: TestFalkorDB;
  readonly gateway: RunningGateway;
  /** Tenant A, read and write; A with the read scope only; tenant B. */
  readonly tokenA: string;
  readonly readOnlyA: string;
  readonly tokenB: string;
  /** Runs `use` with a client of `kind` holding `token` (over stdio: tenant A's read-only credential), closed afterwards. */
  withClient<T>(kind: ClientKind, token: string, use: (client: ContentClient) => Promise<T>): Promise<T>;
}

/** Starts a FalkorDB and a gateway (`env` on top of the test defaults) before the file's tests and seeds both tenants; stops them after. */
export function twoTenantGateway(env: Record<string, string> = {}): TwoTenants {
  let db: TestFalkorDB | undefined;
  let gateway: RunningGateway | undefined;
  const tokens = { a: '', readOnlyA: '', b: '' };
  before(async () => {
    db = await startTestFalkorDB();
    gateway = await startTestGateway(db.url, env);
    tokens.a = await signTestToken(TENANT_A);
    tokens.readOnlyA = await signTestToken(TENANT_A, { scope: 'read' });
    tokens.b = await signTestToken(TENANT_B);
    await seedTwoTenants(gateway.url, tokens.a, tokens.b);
  });
  after(async () => {
    await gateway?.stop();
    await db?.cleanup();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the two-tenant gateway is not started yet (use it inside a test)');
    return value;
  };
  return {
    get db() {
      return started(db);
    },
    get gateway() {
      return started(gateway);
    },
    get tokenA() {
      return tokens.a;
    },
    get readOnlyA() {
      return tokens.readOnlyA;
    },
    get tokenB() {
      return tokens.b;
    },
    async withClient(kind, token, use) {
      const client = await connectContentClient(kind, { baseUrl: started(gateway).url, falkordbUrl: started(db).url }, token, { tenant: TENANT_A, scope: 'read' });
      try {
        return await use(client);
      } finally {
        await client.close();
      }
    },
  };
}
