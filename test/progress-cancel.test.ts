// Progress and cancellation of a long tool call, through real clients on every
// transport: a call whose request carries a progress token gets
// notifications/progress while FalkorDB runs its query (one without gets none);
// a cancelled call stops being waited for at once, and its audit event is
// `query_cancelled`. FalkorDB cannot stop a running query, so the tenant's query
// slot stays taken until FalkorDB ends it at its time limit: with
// MAX_CONCURRENT_QUERIES_PER_TENANT=1, a call sent right after the cancel is
// refused TOO_MANY_QUERIES, and one sent after the time limit runs. On stateless
// /mcp a cancellation reaches only a request of the same caller: tenant B naming
// tenant A's request id cancels nothing.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { eventStreamMessages } from './support/http.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, connectStdioClient } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { waitFor } from './support/topology.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
const LIMITS = { MAX_CONCURRENT_QUERIES_PER_TENANT: '1', QUERY_QUEUE_TIMEOUT_MS: '0', QUERY_TIMEOUT_MS: '60000' };
const TENANT = 'pc-a';
const OTHER = 'pc-b';
let token: string;
let otherToken: string;

// The gateway refuses a range() of more than 10 million elements, so a long query is a cartesian product of real nodes.
const CUBE = 'MATCH (a:N), (b:N), (c:N) RETURN count(*) AS n';
/** The time limit of the long read: FalkorDB stops it then, whatever the machine's speed. */
const LONG_LIMIT_MS = 6000;
/** A read that would run for hours (400⁴ rows), ended by FalkorDB at its time limit. */
const LONG = { graphName: 'g', query: 'MATCH (a:N), (b:N), (c:N), (d:N) RETURN count(*) AS n', timeoutMs: LONG_LIMIT_MS };
/** A read that runs several seconds (300³ rows, about 5 s here), long enough for a first progress beat. */
const MEDIUM = { graphName: 'm', query: CUBE, timeoutMs: 60_000 };
const MEDIUM_ROWS = [{ n: 27_000_000 }];
const QUICK = { graphName: 'g', query: 'RETURN 1 AS one' };

before(async () => {
  db = await startTestFalkorDB();
  // One query at a time per tenant, and no wait for a slot: a call beside a query still running is refused at once.
  gateway = await startTestGateway(db.url, LIMITS);
  token = await signTestToken(TENANT);
  otherToken = await signTestToken(OTHER);
  for (const tenant of [TENANT, OTHER]) {
    await gateway.database.db.sendCommand(['GRAPH.QUERY', tenantGraphKey(tenant, 'g'), 'UNWIND range(1, 400) AS i CREATE (:N {i: i})']);
    await gateway.database.db.sendCommand(['GRAPH.QUERY', tenantGraphKey(tenant, 'm'), 'UNWIND range(1, 300) AS i CREATE (:N {i: i})']);
  }
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

/** The audit events of a tenant, oldest first, as field maps. */
async function auditEvents(tenant: string): Promise<Array<Record<string, string>>> {
  await gateway.state.audit.flush();
  const reply = (await gateway.state.store.command(['XRANGE', stateKeys.tenantAudit(tenant), '-', '+'])) as Array<[string, string[]]>;
  return reply.map(([, fields]) => {
    const event: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) event[fields[i] as string] = fields[i + 1] as string;
    return event;
  });
}

async function cancelledEvents(tenant: string): Promise<number> {
  return (await auditEvents(tenant)).filter((e) => e['event'] === 'query_cancelled' && e['tool'] === 'falkordb_read_query').length;
}

interface CallOptions {
  onprogress?: (p: { progress: number }) => void;
  signal?: AbortSignal;
  timeout?: number;
}

/** The two SDK clients behind one face: a read query with request options, and close. */
interface AnyClient {
  read(args: Record<string, unknown>, options?: CallOptions): Promise<{ isError?: boolean; structuredContent?: Record<string, unknown> }>;
  close(): Promise<void>;
}

type Outcome = { isError?: boolean; structuredContent?: Record<string, unknown> };

function ofV2(client: ClientV2): AnyClient {
  return { read: async (args, options) => (await client.callTool({ name: 'falkordb_read_query', arguments: args }, options)) as Outcome, close: () => client.close() };
}

function ofV1(client: ClientV1): AnyClient {
  return { read: async (args, options) => (await client.callTool({ name: 'falkordb_read_query', arguments: args }, undefined, options)) as Outcome, close: () => client.close() };
}

async function connectV2(mode: 'legacy' | { pin: string }, bearer = token): Promise<ClientV2> {
  const client = new ClientV2({ name: 'progress-test', version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new HttpTransportV2(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${bearer}` } } }));
  return client;
}

/**
 * Starts the long query with a progress callback, waits for two progress
 * notifications, cancels it, and returns how the call ended and the progress seen.
 */
async function progressThenCancel(client: AnyClient): Promise<{ progress: number[]; rejected: boolean }> {
  const progress: number[] = [];
  const controller = new AbortController();
  const call = client
    .read(LONG, { onprogress: (p) => progress.push(p.progress), signal: controller.signal, timeout: 120_000 })
    .then(
      () => false,
      () => true,
    );
  await waitFor('two progress notifications', () => (progress.length >= 2 ? true : undefined), 60_000);
  controller.abort('the test cancels it');
  return { progress, rejected: await call };
}

// stdio serves one local caller with no query cap (src/cli/stdio.ts): there the next call runs at once.
const transports: Array<[string, () => Promise<AnyClient>, { capped: boolean }?]> = [
  ['/mcp, SDK v2 client on 2026-07-28 (closing the request cancels)', async () => ofV2(await connectV2({ pin: '2026-07-28' }))],
  ['/mcp, SDK v2 client on 2025-11-25 (notifications/cancelled)', async () => ofV2(await connectV2('legacy'))],
  ['/mcp, SDK v1 client', async () => ofV1(await connectClient('http', gateway.url, token))],
  ['/sse, SDK v1 client', async () => ofV1(await connectClient('sse-header', gateway.url, token))],
  ['stdio, SDK v1 client', async () => ofV1(await connectStdioClient(TENANT, { FALKORDB_URL: db.url, ...LIMITS }, 'read')), { capped: false }],
];

describe('progress and cancellation of a long query', () => {
  for (const [name, connect, { capped } = { capped: true }] of transports) {
    it(`${name}: progress while it runs; a cancel is not waited for and is audited, and the slot stays taken until FalkorDB ends the query`, async () => {
      const client = await connect();
      try {
        const before = await cancelledEvents(TENANT);
        const { progress, rejected } = await progressThenCancel(client);
        assert.equal(rejected, true, 'the cancelled call is not waited for');
        assert.ok(progress.length >= 2);
        assert.ok(progress.every((p, i) => i === 0 || p > (progress[i - 1] as number)), `progress grows: ${progress.join(',')}`);
        // FalkorDB still runs the long query (to its time limit), and it still holds the tenant's one slot.
        const beside = await client.read(QUICK);
        if (!capped) {
          assert.deepEqual(beside.structuredContent?.['rows'], [{ one: 1 }], JSON.stringify(beside));
          await waitFor('the query_cancelled audit event', async () => ((await cancelledEvents(TENANT)) > before ? true : undefined), 30_000);
          return;
        }
        assert.equal(beside.isError, true, JSON.stringify(beside));
        assert.equal((beside.structuredContent?.['error'] as { code?: string } | undefined)?.code, 'TOO_MANY_QUERIES', JSON.stringify(beside));
        // Once FalkorDB has ended it, the slot is free again.
        await sleep(LONG_LIMIT_MS);
        const next = await waitFor('the slot to be free', async () => {
          const outcome = await client.read(QUICK);
          if (outcome.isError !== true) return outcome;
          await sleep(500);
          return undefined;
        }, 30_000);
        assert.deepEqual(next.structuredContent?.['rows'], [{ one: 1 }]);
        await waitFor('the query_cancelled audit event', async () => ((await cancelledEvents(TENANT)) > before ? true : undefined), 30_000);
      } finally {
        await client.close();
      }
    });
  }

  it('a call without a progress token gets no progress notifications (stdio and /sse)', async () => {
    for (const client of [await connectStdioClient(TENANT, { FALKORDB_URL: db.url, QUERY_TIMEOUT_MS: '60000' }, 'read'), await connectClient('sse-header', gateway.url, token)]) {
      try {
        let seen = 0;
        client.fallbackNotificationHandler = async (n) => {
          if (n.method === 'notifications/progress') seen += 1;
        };
        const done = await callTool(client, 'falkordb_read_query', MEDIUM);
        assert.equal(done.ok, true, done.text);
        assert.equal(seen, 0);
      } finally {
        await client.close();
      }
    }
  });

  it('/mcp answers a call with a progress token as an event stream of progress, then the result; one without as JSON', async () => {
    const withToken = await rawPost(token, toolCall('p-1', MEDIUM, { progressToken: 'tok-1' }));
    assert.match(withToken.contentType, /text\/event-stream/);
    const events = withToken.messages;
    const beats = events.filter((m) => m['method'] === 'notifications/progress');
    assert.ok(beats.length >= 1, withToken.body);
    assert.ok(beats.every((b) => (b['params'] as Record<string, unknown>)['progressToken'] === 'tok-1'));
    const last = events.at(-1) as Record<string, unknown>;
    assert.equal(last['id'], 'p-1');
    assert.deepEqual(((last['result'] as Record<string, unknown>)['structuredContent'] as Record<string, unknown>)['rows'], MEDIUM_ROWS);

    const without = await rawPost(token, toolCall('p-2', MEDIUM));
    assert.match(without.contentType, /application\/json/);
    assert.equal((JSON.parse(without.body) as Record<string, unknown>)['id'], 'p-2');
  });
});

describe('cancellation on stateless /mcp is scoped to its caller', () => {
  it("tenant B's notifications/cancelled naming tenant A's request ids does not cancel A's call", async () => {
    const before = (await auditEvents(TENANT)).length;
    const client = await connectClient('http', gateway.url, token);
    try {
      let beats = 0;
      const call = callToolWithProgress(client, MEDIUM, () => (beats += 1));
      await waitFor("A's call to be running", () => (beats >= 1 ? true : undefined), 60_000);
      // The SDK v1 client numbers its requests from 0: B names every id A's client has used, and more.
      for (let id = 0; id <= 20; id++) {
        const cancel = await rawPost(otherToken, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'not yours' } });
        assert.equal(cancel.status, 202);
      }
      const result = await call;
      assert.notEqual(result.isError, true, JSON.stringify(result));
      assert.deepEqual(result.structuredContent?.['rows'], MEDIUM_ROWS);
    } finally {
      await client.close();
    }
    const after = (await auditEvents(TENANT)).slice(before);
    assert.equal(after.filter((e) => e['event'] === 'query_cancelled').length, 0);
    assert.equal(after.filter((e) => e['event'] === 'query_success' && e['tool'] === 'falkordb_read_query').length, 1);
    assert.equal((await auditEvents(OTHER)).filter((e) => e['event'] === 'query_cancelled').length, 0);
  });

  it("tenant A's own notifications/cancelled of its request id ends A's call at once: its stream closes without a result", async () => {
    const stream = await openStream(token, toolCall('mine-8', LONG, { progressToken: 'mine' }));
    await stream.next('a first progress beat', (m) => m['method'] === 'notifications/progress');
    const cancel = await rawPost(token, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'mine-8', reason: 'mine' } });
    assert.equal(cancel.status, 202);
    const rest = await stream.rest();
    assert.equal(rest.filter((m) => m['id'] === 'mine-8').length, 0, 'no result is sent for a cancelled request');
    await waitFor('the query_cancelled audit event', async () => ((await auditEvents(TENANT)).some((e) => e['event'] === 'query_cancelled' && e['tool'] === 'falkordb_read_query') ? true : undefined), 30_000);
  });
});

/** A v1 client's call with a progress callback. */
async function callToolWithProgress(client: ClientV1, args: Record<string, unknown>, onProgress: () => void): Promise<{ isError?: boolean; structuredContent?: Record<string, unknown> }> {
  return (await client.callTool({ name: 'falkordb_read_query', arguments: args }, undefined, { onprogress: onProgress, timeout: 120_000 })) as { isError?: boolean; structuredContent?: Record<string, unknown> };
}

/** A POST to /mcp whose event-stream reply is read message by message. */
async function openStream(bearer: string, body: unknown): Promise<{ next(what: string, match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>; rest(): Promise<Array<Record<string, unknown>>> }> {
  const res = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' },
    body: JSON.stringify(body),
  });
  assert.ok(res.body !== null);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queued: Array<Record<string, unknown>> = [];
  const read = async (): Promise<boolean> => {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) if (line.startsWith('data: ')) queued.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
    }
    return true;
  };
  return {
    async next(what, match) {
      for (;;) {
        const index = queued.findIndex(match);
        if (index >= 0) return queued.splice(0, index + 1).at(-1) as Record<string, unknown>;
        if (!(await read())) throw new Error(`the stream ended before ${what}`);
      }
    },
    async rest() {
      while (await read());
      return queued.splice(0);
    },
  };
}

function toolCall(id: string, args: Record<string, unknown>, meta?: Record<string, unknown>): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'falkordb_read_query', arguments: args, ...(meta === undefined ? {} : { _meta: meta }) } };
}

/** One POST to /mcp in the 2025-11-25 revision; the body of an event stream comes back as its messages. */
async function rawPost(bearer: string, body: unknown): Promise<{ status: number; contentType: string; body: string; messages: Array<Record<string, unknown>> }> {
  const res = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const messages = contentType.includes('text/event-stream') ? eventStreamMessages(text) : [];
  return { status: res.status, contentType, body: text, messages };
}
