// subscriptions/listen on /mcp and stdio (2026-07-28): the SDK v2 client pinned to the
// revision opens a listen stream for the caller's graph list and a graph's
// schema, and gets notifications/resources/updated when they change, stamped
// with its subscription id; a change of counts only is no update. Two tenants:
// a listen naming another tenant's graph is refused as a graph that does not
// exist, and one tenant's changes never reach another's stream. The stream
// counts against the SSE session caps, and ends gracefully when its token is
// revoked and at shutdown; an idle SSE session of a revoked token ends too.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import { decodeJwt } from 'jose';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { CLI_ENTRY, REPO_ROOT } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { waitFor } from './support/topology.js';

const MODERN = '2026-07-28';
const A = 'listen-a';
const B = 'listen-b';
const PER_DEVICE = 3;

let db: TestFalkorDB;
let gateway: RunningGateway;
let tokenA: string;
let tokenB: string;
let readOnlyA: string;

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url, { SSE_MAX_SESSIONS_PER_DEVICE: String(PER_DEVICE) });
  tokenA = await signTestToken(A);
  tokenB = await signTestToken(B);
  readOnlyA = await signTestToken(A, { scope: 'read', claims: { device: 'reader' } });
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

interface Seen {
  uri: string;
  subscription: unknown;
}

/** A v2 client pinned to 2026-07-28 whose resources/updated notifications are collected in `seen`. */
async function connect(token: string): Promise<{ client: Client; seen: Seen[] }> {
  const client = new Client({ name: 'listen-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  const seen: Seen[] = [];
  client.setNotificationHandler('notifications/resources/updated', (n) => {
    seen.push({ uri: n.params.uri, subscription: (n.params._meta as Record<string, unknown> | undefined)?.[SUBSCRIPTION_ID_META_KEY] });
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return { client, seen };
}

async function write(client: Client, graphName: string, query: string): Promise<void> {
  const result = await client.callTool({ name: 'falkordb_query', arguments: { graphName, query } });
  assert.notEqual(result.isError, true, JSON.stringify(result));
}

const schemaUri = (graph: string) => `falkordb://graphs/${encodeURIComponent(graph)}/schema`;

describe('subscriptions/listen on /mcp (2026-07-28)', () => {
  it('declares resources.subscribe on /mcp in 2026-07-28, and honours the filter it can deliver', async () => {
    const { client } = await connect(tokenA);
    try {
      const resources = client.getServerCapabilities()?.resources as Record<string, unknown> | undefined;
      assert.equal(resources?.['subscribe'], true);
      const subscription = await client.listen({ resourceSubscriptions: ['falkordb://graphs'], toolsListChanged: true });
      // The tool list never changes: only the resources are honoured.
      assert.deepEqual(subscription.honoredFilter, { resourceSubscriptions: ['falkordb://graphs'] });
      await subscription.close();
      assert.equal(await subscription.closed, 'local');
    } finally {
      await client.close();
    }
  });

  it("sends updated for the graph list and a graph's schema, stamped with the subscription id; counts alone are no update", async () => {
    const { client, seen } = await connect(tokenA);
    const bystander = await connect(tokenB);
    try {
      await write(client, 'people', 'CREATE (:Person {name: "a"})');
      await write(bystander.client, 'people', 'CREATE (:Person {name: "b"})');
      const mine = await client.listen({ resourceSubscriptions: ['falkordb://graphs', schemaUri('people')] });
      const theirs = await bystander.client.listen({ resourceSubscriptions: ['falkordb://graphs', schemaUri('people')] });

      // Counts only: no update. A new label: the schema's update.
      await write(client, 'people', 'CREATE (:Person {name: "c"})');
      await write(client, 'people', 'CREATE (:Pet {name: "d"})');
      const schemaUpdate = await waitFor('the schema update', () => seen.find((s) => s.uri === schemaUri('people')), 30_000);
      assert.equal(typeof schemaUpdate.subscription, 'string');
      assert.equal(seen.filter((s) => s.uri === schemaUri('people')).length, 1, JSON.stringify(seen));

      // A new graph: the list's update.
      await write(client, 'places', 'CREATE (:City {name: "x"})');
      await waitFor('the graph list update', () => seen.find((s) => s.uri === 'falkordb://graphs'), 30_000);

      // Tenant B changed nothing: its stream saw nothing of A's writes, though B has a graph of the same name.
      // One more change of B's own, seen, shows its stream was live all along.
      await write(bystander.client, 'people', 'CREATE (:Robot {name: "r"})');
      await waitFor("B's own schema update", () => bystander.seen.find((s) => s.uri === schemaUri('people')), 30_000);
      assert.deepEqual(
        bystander.seen.map((s) => s.uri),
        [schemaUri('people')],
      );
      await mine.close();
      await theirs.close();
    } finally {
      await client.close();
      await bystander.client.close();
    }
  });

  it("refuses a listen naming another tenant's graph exactly as one naming a graph that does not exist, and the other tenant's changes never reach a stream", async () => {
    const { client } = await connect(tokenA);
    const bystander = await connect(tokenB);
    try {
      await write(client, 'only-a', 'CREATE (:Secret)');
      const refusal = (uri: string) =>
        bystander.client.listen({ resourceSubscriptions: [uri] }).then(
          () => assert.fail(`a listen naming ${uri} was accepted`),
          (e: { code?: unknown; message: string; data?: unknown }) => e,
        );
      const other = await refusal(schemaUri('only-a'));
      const missing = await refusal(schemaUri('not-there'));
      assert.equal(other.code, -32602);
      assert.equal(other.code, missing.code);
      assert.equal(other.message.replace('only-a', 'X'), missing.message.replace('not-there', 'X'));
      assert.deepEqual(other.data, { uri: schemaUri('only-a') });
      assert.doesNotMatch(other.message, new RegExp(`${A}|gw:`));
      // B watches its graph list: A's new graph is nothing to it; B's own is.
      const list = await bystander.client.listen({ resourceSubscriptions: ['falkordb://graphs'] });
      await write(client, 'another-of-a', 'CREATE (:Secret)');
      await write(bystander.client, 'of-b', 'CREATE (:Mine)');
      await waitFor("B's update for its own new graph", () => bystander.seen.find((s) => s.uri === 'falkordb://graphs'), 30_000);
      assert.equal(bystander.seen.length, 1, JSON.stringify(bystander.seen));
      await list.close();
    } finally {
      await client.close();
      await bystander.client.close();
    }
  });

  it('refuses a URI that is none of the resources, a bad graph name, and more than 32 resources, with what to do', async () => {
    const { client } = await connect(tokenA);
    try {
      const refusal = (filter: { resourceSubscriptions: string[] }) =>
        client.listen(filter).then(
          () => assert.fail(`${JSON.stringify(filter)} was accepted`),
          (e: Error) => e.message,
        );
      assert.match(await refusal({ resourceSubscriptions: ['falkordb://other'] }), /not a resource this gateway can watch.*falkordb:\/\/graphs/);
      assert.match(await refusal({ resourceSubscriptions: ['falkordb://graphs/%E0%A4%A/schema'] }), /not valid percent-encoding/);
      assert.match(await refusal({ resourceSubscriptions: [schemaUri('bad name!')] }), /graph name/i);
      assert.match(await refusal({ resourceSubscriptions: Array.from({ length: 33 }, (_, i) => schemaUri(`g${i}`)) }), /at most 32/);
    } finally {
      await client.close();
    }
  });

  it("a read-only token's stream works", async () => {
    const { client: writer } = await connect(tokenA);
    const { client, seen } = await connect(readOnlyA);
    try {
      await write(writer, 'ro', 'CREATE (:A)');
      const subscription = await client.listen({ resourceSubscriptions: [schemaUri('ro')] });
      await write(writer, 'ro', 'CREATE (:B)');
      await waitFor('the update on a read-only stream', () => seen.find((s) => s.uri === schemaUri('ro')), 30_000);
      await subscription.close();
    } finally {
      await writer.close();
      await client.close();
    }
  });

  it('counts streams against SSE_MAX_SESSIONS_PER_DEVICE, and gives the place back when a stream closes', async () => {
    const { client } = await connect(tokenA);
    try {
      const open = [];
      for (let i = 0; i < PER_DEVICE; i++) open.push(await client.listen({ resourceSubscriptions: ['falkordb://graphs'] }));
      const refused = await client.listen({ resourceSubscriptions: ['falkordb://graphs'] }).then(
        () => assert.fail('a stream over the cap was accepted'),
        (e: Error) => e.message,
      );
      assert.match(refused, new RegExp(`${PER_DEVICE} SSE sessions and subscriptions/listen streams open.*SSE_MAX_SESSIONS_PER_DEVICE`));
      await open.pop()?.close();
      const again = await waitFor('a place to be free', async () => client.listen({ resourceSubscriptions: ['falkordb://graphs'] }).catch(() => undefined), 30_000);
      for (const s of [...open, again]) await s.close();
    } finally {
      await client.close();
    }
  });
});

describe('subscriptions/listen over stdio (2026-07-28)', () => {
  it('watches what the filter names: updates for changes made through the gateway; a graph the caller does not have is refused as a read is', async () => {
    const { client: writer } = await connect(tokenA);
    const client = new Client({ name: 'listen-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    const seen: Seen[] = [];
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      seen.push({ uri: n.params.uri, subscription: (n.params._meta as Record<string, unknown> | undefined)?.[SUBSCRIPTION_ID_META_KEY] });
    });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', CLI_ENTRY, 'stdio', '--tenant', A, '--scope', 'read'],
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', FALKORDB_URL: db.url },
        cwd: REPO_ROOT,
        stderr: 'pipe',
      }),
    );
    try {
      await write(writer, 'stdio-watched', 'CREATE (:A)');
      const subscription = await client.listen({ resourceSubscriptions: ['falkordb://graphs', schemaUri('stdio-watched')] });
      assert.deepEqual(subscription.honoredFilter, { resourceSubscriptions: ['falkordb://graphs', schemaUri('stdio-watched')] });
      await write(writer, 'stdio-watched', 'CREATE (:B)');
      const update = await waitFor('the schema update over stdio', () => seen.find((s) => s.uri === schemaUri('stdio-watched')), 30_000);
      assert.equal(typeof update.subscription, 'string');
      await write(writer, 'stdio-new', 'CREATE (:C)');
      await waitFor('the graph list update over stdio', () => seen.find((s) => s.uri === 'falkordb://graphs'), 30_000);
      await subscription.close();

      const refused = await client.listen({ resourceSubscriptions: [schemaUri('only-b-has-it')] }).then(
        () => assert.fail('a listen naming a graph the caller does not have was accepted'),
        (e: { code?: unknown; message: string }) => e,
      );
      assert.equal(refused.code, -32602);
      assert.match(refused.message, /does not exist/);
      const unknown = await client.listen({ resourceSubscriptions: ['falkordb://other'] }).then(
        () => assert.fail('an unknown URI was accepted'),
        (e: Error) => e.message,
      );
      assert.match(unknown, /not a resource this gateway can watch/);
    } finally {
      await client.close();
      await writer.close();
    }
  });
});

describe('long-lived streams and their tokens', () => {
  it('an idle SSE session ends when its token is revoked, with no post to find it out', async () => {
    const token = await signTestToken(A, { claims: { device: 'sse-to-revoke' } });
    const { jti, exp } = decodeJwt(token);
    // A raw stream: an EventSource client reconnects by itself, which would hide the end.
    const controller = new AbortController();
    const res = await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${token}` }, signal: controller.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return 'ended';
    })();
    try {
      await gateway.state.ledger.revokeJti(jti as string, exp as number);
      assert.equal(await Promise.race([ended, sleep(30_000, undefined, { ref: false }).then(() => 'still open after 30 s')]), 'ended');
    } finally {
      controller.abort();
      await ended.catch(() => undefined);
    }
  });

  it('a listen stream ends when its token is revoked', async () => {
    const token = await signTestToken(A, { claims: { device: 'to-revoke' } });
    const { jti, exp } = decodeJwt(token);
    const { client } = await connect(token);
    try {
      const subscription = await client.listen({ resourceSubscriptions: ['falkordb://graphs'] });
      await gateway.state.ledger.revokeJti(jti as string, exp as number);
      assert.equal(await Promise.race([subscription.closed, sleep(30_000, undefined, { ref: false }).then(() => 'still open after 30 s')]), 'graceful');
    } finally {
      await client.close();
    }
  });
});

describe('a listen stream at shutdown', () => {
  it('ends gracefully when the gateway stops', async () => {
    const own = await startTestGateway(db.url);
    const client = new Client({ name: 'listen-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${own.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${tokenA}` } } }));
    try {
      const subscription = await client.listen({ resourceSubscriptions: ['falkordb://graphs'] });
      await own.stop();
      assert.equal(await subscription.closed, 'graceful');
    } finally {
      await client.close();
    }
  });
});
