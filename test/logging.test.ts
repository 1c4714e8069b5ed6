// MCP logging (notifications/message) through real clients: what the gateway
// tells a caller about its own calls, at the level the caller chose, in the way
// its revision sets that level.
//
//   SSE sessions and stdio (2025 revisions): a session starts at `notice` (a slow
//     call or a refusal is told, a quick success is not); logging/setLevel moves it.
//   stateless /mcp (2025 revisions): logging/setLevel is answered and changes
//     nothing, and no message is ever sent (a shared server must not apply one
//     caller's level to another's calls).
//   2026-07-28: a request's `_meta` `io.modelcontextprotocol/logLevel` is its level;
//     a request without it gets no message; logging/setLevel is not a method of
//     that revision (Method not found).
//
// Every message comes before its call's result on the call's own stream, names
// only the caller's own graph, and never holds the query, parameter values, the
// token, a tenant's name or an internal key prefix. Two tenants at once each
// hear only about their own calls.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, LOG_LEVEL_META_KEY, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { eventStreamMessages } from './support/http.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { CLI_ENTRY, REPO_ROOT, connectClient, connectStdioClient } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
const TENANT = 'lg-tenant-a';
const OTHER = 'lg-tenant-b';
const MODERN = '2026-07-28';
const ENV = { QUERY_TIMEOUT_MS: '60000' };
let token: string;
let readOnlyToken: string;
let otherToken: string;

/** What a message must never hold: the query's literal and parameter value below, tenants' names, internal key prefixes. */
const SECRET_PARAMETER = 'param-value-7f3c19';
const SECRET_LITERAL = 'literal-text-b42e88';
const FORBIDDEN = [SECRET_PARAMETER, SECRET_LITERAL, 'lg-tenant', 'gw:', 'MATCH', 'RETURN', 'CREATE'];

const QUICK = { graphName: 'alpha', query: 'RETURN 1 AS one' };
/** A read of 300³ rows: about 5 s here, well over the 1 s that makes a call slow even on a much faster machine. */
const SLOW = { graphName: 'alpha', query: 'MATCH (a:N), (b:N), (c:N) RETURN count(*) AS n', timeoutMs: 60_000 };
const WRITE = { graphName: 'alpha', query: `CREATE (:W {note: '${SECRET_LITERAL}'})` };
/** A query with a distinctive parameter value and literal, which no message may repeat. */
const WITH_SECRETS = { graphName: 'alpha', query: `MATCH (n:N) WHERE n.i = 1 OR n.tag = $tag RETURN '${SECRET_LITERAL}' AS lit, count(n) AS c`, parameters: { tag: SECRET_PARAMETER } };
/** Cypher that does not parse, holding the literal and the parameter too (a database error may quote the query). */
const BAD_CYPHER = { graphName: 'alpha', query: `MATCH (n:N WHERE n.tag = $tag RETURN '${SECRET_LITERAL}'`, parameters: { tag: SECRET_PARAMETER } };
/** Not a graph name; it looks like an internal key, which a message must not repeat. */
const INVALID_GRAPH = { graphName: 'gw:lg-tenant-b_beta', query: 'RETURN 1' };

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url, ENV);
  token = await signTestToken(TENANT);
  readOnlyToken = await signTestToken(TENANT, { scope: 'read' });
  otherToken = await signTestToken(OTHER);
  await gateway.database.db.sendCommand(['GRAPH.QUERY', tenantGraphKey(TENANT, 'alpha'), 'UNWIND range(1, 300) AS i CREATE (:N {i: i})']);
  await gateway.database.db.sendCommand(['GRAPH.QUERY', tenantGraphKey(OTHER, 'beta'), 'UNWIND range(1, 10) AS i CREATE (:N {i: i})']);
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

type Message = Record<string, unknown>;
interface LogParams {
  level: string;
  logger?: string;
  data: { tool: string; graph?: string; event: string; code?: string; rowCount?: number; durationMs: number; message: string };
}
interface Told {
  result: { isError?: boolean; structuredContent?: Record<string, unknown> };
  /** The notifications/message of the call, all of which came before its result. */
  messages: LogParams[];
}

/** A v1 client whose every incoming JSON-RPC message is kept, in the order its transport delivered them. */
interface Session {
  client: ClientV1;
  wire: Message[];
}

function tap(client: ClientV1 | ClientV2): Message[] {
  const transport = client.transport;
  assert.ok(transport !== undefined);
  const wire: Message[] = [];
  const inner = transport.onmessage;
  assert.ok(inner !== undefined);
  transport.onmessage = ((message: Message, extra?: unknown) => {
    wire.push(message);
    (inner as (m: Message, e?: unknown) => void)(message, extra);
  }) as typeof transport.onmessage;
  return wire;
}

async function session(connect: Promise<ClientV1>): Promise<Session> {
  const client = await connect;
  return { client, wire: tap(client) };
}

const isLog = (m: Message) => m['method'] === 'notifications/message';
const isReply = (m: Message) => 'id' in m && ('result' in m || 'error' in m) && !('method' in m);

/**
 * Calls a tool, then pings: a message sent after the call's result would come
 * before the ping's reply, so every message between the two replies is one that
 * came late. Returns the messages that came before the result.
 */
async function call(s: Session, name: string, args: Record<string, unknown>): Promise<Told> {
  const start = s.wire.length;
  const result = (await s.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Told['result'];
  await s.client.ping();
  const seen = s.wire.slice(start);
  const replies = seen.flatMap((m, i) => (isReply(m) ? [i] : []));
  assert.equal(replies.length, 2, 'the call\'s reply and the ping\'s');
  const [reply, pong] = replies as [number, number];
  assert.equal(seen.slice(reply, pong + 1).filter(isLog).length, 0, `no message comes after the call's result: ${JSON.stringify(seen)}`);
  return { result, messages: seen.slice(0, reply).filter(isLog).map((m) => m['params'] as LogParams) };
}

function read(s: Session, args: Record<string, unknown>): Promise<Told> {
  return call(s, 'falkordb_read_query', args);
}

function query(s: Session, args: Record<string, unknown>): Promise<Told> {
  return call(s, 'falkordb_query', args);
}

const events = (told: Told) => told.messages.map((m) => `${m.level}:${m.data.event}`);

/** Every message names the caller's own graph when it names one, and holds nothing it must not. */
function assertClean(messages: readonly LogParams[], ownGraphs: readonly string[], bearer: string): void {
  for (const message of messages) {
    const text = JSON.stringify(message);
    for (const word of [...FORBIDDEN, bearer]) assert.equal(text.includes(word), false, `a message holds ${JSON.stringify(word)}: ${text}`);
    if (message.data.graph !== undefined) assert.ok(ownGraphs.includes(message.data.graph), text);
    assert.equal(message.logger, 'falkordb-mcp-gateway');
  }
}

/** The same checks through one session of the 2025 revisions (an SSE session, stdio), from its default level on. */
async function sessionLevels(s: Session, bearer: string): Promise<void> {
  const all: LogParams[] = [];
  const keep = (told: Told) => {
    all.push(...told.messages);
    return told;
  };
  // The default level is `notice`: a quick success is not told; a slow call and a refusal are.
  const quick = keep(await read(s, QUICK));
  assert.notEqual(quick.result.isError, true);
  assert.deepEqual(events(quick), []);
  const slow = keep(await read(s, SLOW));
  assert.notEqual(slow.result.isError, true, JSON.stringify(slow.result));
  assert.deepEqual(events(slow), ['notice:slow']);
  assert.equal(slow.messages[0]?.data.graph, 'alpha');
  assert.ok((slow.messages[0]?.data.durationMs ?? 0) >= 1000);
  const refused = keep(await read(s, INVALID_GRAPH));
  assert.equal(refused.result.isError, true);
  assert.deepEqual(events(refused), ['warning:refused']);
  assert.equal(refused.messages[0]?.data.code, 'GRAPH_NAME_INVALID');
  assert.equal(refused.messages[0]?.data.graph, undefined, 'a name that is not a graph name is not repeated as one');

  // At debug, a success is told as finished (with its row count), and a write as a write at info.
  assert.deepEqual(await s.client.setLoggingLevel('debug'), {});
  const finished = keep(await read(s, QUICK));
  assert.deepEqual(events(finished), ['debug:finished']);
  assert.equal(finished.messages[0]?.data.graph, 'alpha');
  assert.equal(finished.messages[0]?.data.rowCount, 1);
  assert.equal(finished.messages[0]?.data.tool, 'falkordb_read_query');
  const wrote = keep(await query(s, WRITE));
  assert.notEqual(wrote.result.isError, true, JSON.stringify(wrote.result));
  assert.deepEqual(events(wrote), ['info:write', 'debug:finished']);
  const secrets = keep(await read(s, WITH_SECRETS));
  assert.deepEqual(secrets.result.structuredContent?.['rows'], [{ lit: SECRET_LITERAL, c: 1 }]);
  assert.deepEqual(events(secrets), ['debug:finished']);

  // A query FalkorDB refuses is an error, with its code and without the database's words.
  const failed = keep(await read(s, BAD_CYPHER));
  assert.equal(failed.result.isError, true);
  assert.deepEqual(events(failed), ['error:failed']);
  const code = (failed.result.structuredContent?.['error'] as { code?: string } | undefined)?.code;
  assert.equal(failed.messages[0]?.data.code, code);
  assert.equal(code, 'QUERY_FAILED');

  // At error, a refusal (a warning) is not told any more, a failure still is.
  assert.deepEqual(await s.client.setLoggingLevel('error'), {});
  assert.deepEqual(events(keep(await read(s, INVALID_GRAPH))), []);
  assert.deepEqual(events(keep(await query(s, WRITE))), []);
  assert.deepEqual(events(keep(await read(s, BAD_CYPHER))), ['error:failed']);

  assertClean(all, ['alpha'], bearer);
}

describe('logging on a session of the 2025 revisions', () => {
  it('/sse (SDK v1 client): notice by default, then the levels logging/setLevel sets; messages come before the result and hold nothing private', async () => {
    const s = await session(connectClient('sse-header', gateway.url, token));
    try {
      await sessionLevels(s, token);
    } finally {
      await s.client.close();
    }
  });

  it('stdio (SDK v1 client): the same', async () => {
    const s = await session(connectStdioClient(TENANT, { FALKORDB_URL: db.url, ...ENV }));
    try {
      await sessionLevels(s, token);
    } finally {
      await s.client.close();
    }
  });

  it('/sse with a read-only token: a write is refused with a warning at notice, and without one at error', async () => {
    const s = await session(connectClient('sse-header', gateway.url, readOnlyToken));
    try {
      const refused = await query(s, WRITE);
      assert.equal(refused.result.isError, true);
      assert.deepEqual(events(refused), ['warning:refused']);
      assert.equal(refused.messages[0]?.data.code, (refused.result.structuredContent?.['error'] as { code?: string }).code);
      assertClean(refused.messages, ['alpha'], readOnlyToken);
      await s.client.setLoggingLevel('error');
      assert.deepEqual(events(await query(s, WRITE)), []);
    } finally {
      await s.client.close();
    }
  });
});

describe('two tenants on SSE sessions at once', () => {
  it('each hears only about its own calls, and one session\'s level is not the other\'s', async () => {
    const [a, b] = await Promise.all([session(connectClient('sse-header', gateway.url, token)), session(connectClient('sse-header', gateway.url, otherToken))]);
    try {
      await a.client.setLoggingLevel('debug');
      // B never set a level: at notice, its quick call is not told, while A's is, at the same moment.
      const [ofA, ofB] = await Promise.all([read(a, QUICK), read(b, { graphName: 'beta', query: 'MATCH (n:N) RETURN count(n) AS c' })]);
      assert.deepEqual(events(ofA), ['debug:finished']);
      assert.deepEqual(events(ofB), []);
      assert.equal(ofA.messages[0]?.data.graph, 'alpha');

      await Promise.all([b.client.setLoggingLevel('debug'), a.client.setLoggingLevel('error')]);
      const [againA, againB] = await Promise.all([read(a, QUICK), read(b, { graphName: 'beta', query: 'MATCH (n:N) RETURN count(n) AS c' })]);
      assert.deepEqual(events(againA), []);
      assert.deepEqual(events(againB), ['debug:finished']);
      assert.equal(againB.messages[0]?.data.graph, 'beta');
      assert.equal(againB.messages[0]?.data.rowCount, 1);

      // Refusals of both at once: A's (at error) is not told, B's (at debug) is, to B alone.
      const [refusedA, refusedB] = await Promise.all([read(a, INVALID_GRAPH), read(b, INVALID_GRAPH)]);
      assert.deepEqual(events(refusedA), []);
      assert.deepEqual(events(refusedB), ['warning:refused']);

      assertClean([...ofA.messages, ...againA.messages], ['alpha'], token);
      assertClean([...ofB.messages, ...againB.messages, ...refusedB.messages], ['beta'], otherToken);
      // Nothing of one session's calls ever reached the other's stream.
      assert.equal(JSON.stringify(a.wire).includes('beta'), false);
      assert.equal(JSON.stringify(b.wire).includes('alpha'), false);
    } finally {
      await Promise.all([a.client.close(), b.client.close()]);
    }
  });
});

interface Posted {
  status: number;
  contentType: string;
  /** The messages of the reply: one JSON body, or each event of an event stream, in order. */
  messages: Message[];
}

async function post(body: unknown, headers: Record<string, string>, bearer: string): Promise<Posted> {
  const res = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const messages = contentType.includes('text/event-stream')
    ? (eventStreamMessages(text) as Message[])
    : text === ''
      ? []
      : [JSON.parse(text) as Message];
  return { status: res.status, contentType, messages };
}

const LEGACY_HEADERS = { 'MCP-Protocol-Version': '2025-11-25' };

describe('stateless /mcp on 2025-11-25', () => {
  it('answers logging/setLevel, and sends no message about any call, even one whose reply is an event stream', async () => {
    // The SDK v1 client: setLevel is answered; its calls' replies hold no message.
    const client = await connectClient('http', gateway.url, token);
    const wire = tap(client);
    try {
      assert.deepEqual(await client.setLoggingLevel('debug'), {});
      for (const [name, args] of [['falkordb_read_query', QUICK], ['falkordb_query', WRITE], ['falkordb_read_query', BAD_CYPHER], ['falkordb_read_query', INVALID_GRAPH]] as const) {
        await client.callTool({ name, arguments: args });
      }
      assert.equal(wire.filter(isLog).length, 0, JSON.stringify(wire.filter(isLog)));
    } finally {
      await client.close();
    }
    // The SDK v2 client in its 2025 mode.
    const v2 = new ClientV2({ name: 'logging-test', version: '1.0.0' }, { versionNegotiation: { mode: 'legacy' } });
    await v2.connect(new HttpTransportV2(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    try {
      assert.deepEqual(await v2.setLoggingLevel('debug'), {});
    } finally {
      await v2.close();
    }
    // Raw: setLevel is {}; a slow call with a progress token is answered as an event stream of progress, and holds no
    // message, though a session at its default level would be told this call was slow.
    const set = await post({ jsonrpc: '2.0', id: 's-1', method: 'logging/setLevel', params: { level: 'debug' } }, LEGACY_HEADERS, token);
    assert.equal(set.status, 200);
    assert.deepEqual(set.messages[0]?.['result'], {});
    const slow = await post({ jsonrpc: '2.0', id: 's-2', method: 'tools/call', params: { name: 'falkordb_read_query', arguments: SLOW, _meta: { progressToken: 'p' } } }, LEGACY_HEADERS, token);
    assert.match(slow.contentType, /text\/event-stream/);
    assert.ok(slow.messages.some((m) => m['method'] === 'notifications/progress'), JSON.stringify(slow.messages));
    assert.equal(slow.messages.filter(isLog).length, 0, JSON.stringify(slow.messages));
    assert.equal(slow.messages.at(-1)?.['id'], 's-2');
  });
});

const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };

/** One request of the 2026-07-28 revision, raw, with the headers it needs; `level` goes in its `_meta`. */
function modern(id: string, method: string, params: Record<string, unknown>, level: string | undefined, bearer = token): Promise<Posted> {
  const name = typeof params['name'] === 'string' ? { 'Mcp-Name': params['name'] } : {};
  const meta = { ...ENVELOPE, ...(level === undefined ? {} : { [LOG_LEVEL_META_KEY]: level }) };
  return post({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }, { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': method, ...name }, bearer);
}

function modernRead(id: string, args: Record<string, unknown>, level: string | undefined, bearer = token): Promise<Posted> {
  return modern(id, 'tools/call', { name: 'falkordb_read_query', arguments: args }, level, bearer);
}

/** The messages of a reply stream, after checking the stream ends with the reply to `id` and holds no message after it. */
function logsOf(posted: Posted, id: string): LogParams[] {
  assert.equal(posted.status, 200);
  const last = posted.messages.at(-1);
  assert.equal(last?.['id'], id, JSON.stringify(posted.messages));
  assert.equal(posted.messages.findIndex((m) => m['id'] === id), posted.messages.length - 1, 'the result is the last message');
  return posted.messages.filter(isLog).map((m) => m['params'] as LogParams);
}

describe('/mcp on 2026-07-28: the level rides on each request', () => {
  it('a request with io.modelcontextprotocol/logLevel gets messages at that level on its reply stream, before the result; one without gets none', async () => {
    const debug = await modernRead('m-1', WITH_SECRETS, 'debug');
    assert.match(debug.contentType, /text\/event-stream/);
    const told = logsOf(debug, 'm-1');
    assert.deepEqual(told.map((m) => `${m.level}:${m.data.event}`), ['debug:finished']);
    assert.equal(told[0]?.data.graph, 'alpha');
    assertClean(told, ['alpha'], token);

    const none = await modernRead('m-2', WITH_SECRETS, undefined);
    assert.match(none.contentType, /application\/json/);
    assert.deepEqual(logsOf(none, 'm-2'), []);
    const noneRefused = await modernRead('m-3', INVALID_GRAPH, undefined);
    assert.deepEqual(logsOf(noneRefused, 'm-3'), []);

    const warning = logsOf(await modernRead('m-4', INVALID_GRAPH, 'warning'), 'm-4');
    assert.deepEqual(warning.map((m) => `${m.level}:${m.data.event}:${m.data.code}`), ['warning:refused:GRAPH_NAME_INVALID']);
    assertClean(warning, [], token);
    assert.deepEqual(logsOf(await modernRead('m-5', INVALID_GRAPH, 'error'), 'm-5'), []);
    const failed = logsOf(await modernRead('m-6', BAD_CYPHER, 'error'), 'm-6');
    assert.deepEqual(failed.map((m) => `${m.level}:${m.data.event}:${m.data.code}`), ['error:failed:QUERY_FAILED']);
    assertClean(failed, ['alpha'], token);
    // A quick success at the default a session would have (notice) is not told.
    assert.deepEqual(logsOf(await modernRead('m-7', QUICK, 'notice'), 'm-7'), []);
  });

  it('a level that is not a log level is refused as invalid params; logging/setLevel is not a method of this revision', async () => {
    const bad = await modernRead('b-1', QUICK, 'loud');
    assert.equal((bad.messages[0]?.['error'] as { code?: number } | undefined)?.code, -32602, JSON.stringify(bad.messages));
    const set = await modern('b-2', 'logging/setLevel', { level: 'debug' }, undefined);
    assert.equal(set.status, 404);
    assert.equal((set.messages[0]?.['error'] as { code?: number } | undefined)?.code, -32601, JSON.stringify(set.messages));
  });

  it('two tenants at once each get messages about their own call only', async () => {
    const [a, b] = await Promise.all([modernRead('t-1', QUICK, 'debug'), modernRead('t-1', { graphName: 'beta', query: 'MATCH (n:N) RETURN count(n) AS c' }, 'debug', otherToken)]);
    const ofA = logsOf(a, 't-1');
    const ofB = logsOf(b, 't-1');
    assert.deepEqual(ofA.map((m) => m.data.graph), ['alpha']);
    assert.deepEqual(ofB.map((m) => m.data.graph), ['beta']);
    assertClean(ofA, ['alpha'], token);
    assertClean(ofB, ['beta'], otherToken);
  });

  it('the SDK v2 client pinned to 2026-07-28 (over /mcp and stdio) gets messages for a call whose _meta carries the level, none for one without', async () => {
    const overHttp = new ClientV2({ name: 'logging-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await overHttp.connect(new HttpTransportV2(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const overStdio = new ClientV2({ name: 'logging-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await overStdio.connect(
      new StdioTransportV2({
        command: process.execPath,
        args: ['--import', 'tsx', CLI_ENTRY, 'stdio', '--tenant', TENANT, '--scope', 'read write'],
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', FALKORDB_URL: db.url, ...ENV },
        cwd: REPO_ROOT,
        stderr: 'pipe',
      }),
    );
    try {
      for (const client of [overHttp, overStdio]) {
        assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
        // logging/setLevel is not a method of this revision: the client does not send it (the raw POST above shows the server's answer).
        await assert.rejects(client.setLoggingLevel('debug'), /not supported by the negotiated protocol version/);
        const wire = tap(client);
        const told: LogParams[] = [];
        client.setNotificationHandler('notifications/message', (n) => {
          told.push(n.params as unknown as LogParams);
        });
        const withLevel = await client.callTool({ name: 'falkordb_query', arguments: WRITE, _meta: { [LOG_LEVEL_META_KEY]: 'info' } });
        assert.notEqual(withLevel.isError, true, JSON.stringify(withLevel));
        const reply = wire.findIndex(isReply);
        assert.deepEqual(wire.slice(0, reply).filter(isLog).map((m) => (m['params'] as LogParams).data.event), ['write'], JSON.stringify(wire));
        assert.equal(told.length, 1);
        assertClean(told, ['alpha'], token);
        const start = wire.length;
        await client.callTool({ name: 'falkordb_query', arguments: WRITE });
        await client.callTool({ name: 'falkordb_read_query', arguments: INVALID_GRAPH });
        await client.listTools();
        assert.equal(wire.slice(start).filter(isLog).length, 0, JSON.stringify(wire.slice(start)));
      }
    } finally {
      await Promise.all([overHttp.close(), overStdio.close()]);
    }
  });
});

describe('the logging capability', () => {
  it('is declared in every revision\'s initialize or server/discover result, on every transport', async () => {
    for (const connect of [() => connectClient('sse-header', gateway.url, token), () => connectClient('http', gateway.url, token)]) {
      const client = await connect();
      try {
        assert.deepEqual(client.getServerCapabilities()?.logging, {});
      } finally {
        await client.close();
      }
    }
    for (const mode of ['legacy', { pin: MODERN }] as const) {
      const client = new ClientV2({ name: 'logging-test', version: '1.0.0' }, { versionNegotiation: { mode } });
      await client.connect(new HttpTransportV2(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      try {
        assert.deepEqual(client.getServerCapabilities()?.logging, {}, JSON.stringify(mode));
      } finally {
        await client.close();
      }
    }
    const discovered = await modern('d-1', 'server/discover', {}, undefined);
    assert.deepEqual(((discovered.messages[0]?.['result'] as Record<string, unknown>)['capabilities'] as Record<string, unknown>)['logging'], {});
    const initialized = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'old', version: '1' } } }, {}, token);
    assert.deepEqual(((initialized.messages[0]?.['result'] as Record<string, unknown>)['capabilities'] as Record<string, unknown>)['logging'], {});
    const stdio = await connectStdioClient(TENANT, { FALKORDB_URL: db.url, ...ENV }, 'read');
    try {
      assert.deepEqual(stdio.getServerCapabilities()?.logging, {});
    } finally {
      await stdio.close();
    }
  });
});
