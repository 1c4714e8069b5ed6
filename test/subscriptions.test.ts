// Resource subscriptions through real clients on a real FalkorDB, two tenants:
// resources/subscribe on an SSE session and stdio (2025 revisions), refused in
// clear words on stateless /mcp; notifications/resources/updated when the graph
// list or a schema's names change, by whichever path the change came; none for
// another tenant's changes or a write that only adds data; the session's cap,
// unsubscribe, and no polling once the session is gone.
//
// "No notification" is never waited for by the clock: a marker resource
// subscribed BEFORE the one that must stay quiet is changed after the quiet
// one's write, twice. The poll reads subscriptions in the order they were made,
// so once the second marker change is seen, a whole poll has read the quiet one
// after its write.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { LEAK, TENANT_A, TENANT_B, rpcFailure, twoTenantGateway, type ClientKind } from './support/content.js';
import { postModern } from './support/http.js';
import { startTestGateway } from './support/gateway.js';
import { seedGraph } from './support/graphs.js';
import { connectClient, connectStdioClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { waitFor } from './support/topology.js';

const fx = twoTenantGateway();

const GRAPHS = 'falkordb://graphs';
const schemaOf = (graph: string) => `falkordb://graphs/${encodeURIComponent(graph)}/schema`;
/** Generous: one poll is 2 s, the machine is shared. */
const NOTICE_MS = 30_000;

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  await Promise.allSettled(open.map((c) => c.close()));
});

/** A v1 client that keeps every resources/updated notification it is sent. */
interface Watcher {
  client: Client;
  updates: string[];
  count(uri: string): number;
  /** Waits until `uri` has been announced `times` times in all. */
  seen(uri: string, times: number): Promise<void>;
  subscribe(uri: string): Promise<unknown>;
  unsubscribe(uri: string): Promise<unknown>;
}

function watching(client: Client): Watcher {
  const updates: string[] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notice) => void updates.push(notice.params.uri));
  open.push(client);
  const count = (uri: string) => updates.filter((u) => u === uri).length;
  return {
    client,
    updates,
    count,
    seen: (uri, times) => waitFor(`${times} resources/updated of ${uri} (got ${JSON.stringify(updates)})`, () => (count(uri) >= times ? true : undefined), NOTICE_MS).then(() => undefined),
    subscribe: (uri) => client.subscribeResource({ uri }),
    unsubscribe: (uri) => client.unsubscribeResource({ uri }),
  };
}

async function sseWatcher(token: string, gateway: RunningGateway = fx.gateway): Promise<Watcher> {
  return watching(await connectClient('sse-header', gateway.url, token));
}

async function writer(token: string, gateway: RunningGateway = fx.gateway): Promise<Client> {
  const client = await connectClient('http', gateway.url, token);
  open.push(client);
  return client;
}

const write = (client: Client, graphName: string, query: string) => mustCall(client, 'falkordb_query', { graphName, query });

/**
 * Proves `quiet` got no notification for what was done before: changes the
 * marker graph's schema twice (the marker subscribed before `quiet`) and waits
 * for both notices.
 */
async function onePollLater(watcher: Watcher, marker: { client: Client; graph: string; labels: () => string }): Promise<void> {
  const uri = schemaOf(marker.graph);
  for (let i = 0; i < 2; i++) {
    const before = watcher.count(uri);
    await write(marker.client, marker.graph, `CREATE (:${marker.labels()})`);
    await watcher.seen(uri, before + 1);
  }
}

let markerCount = 0;
const nextLabel = () => `Marker${++markerCount}`;

describe('the subscribe capability, by transport', () => {
  for (const kind of ['v1 /sse', 'v1 stdio'] as const satisfies readonly ClientKind[]) {
    it(`${kind}: declares resources.subscribe (and still no listChanged)`, async () => {
      await fx.withClient(kind, fx.readOnlyA, async (client) => {
        assert.deepEqual(client.getServerCapabilities()?.['resources'], { subscribe: true, listChanged: false });
      });
    });
  }

  for (const kind of ['v1 /mcp', 'v2 2025 /mcp'] as const satisfies readonly ClientKind[]) {
    it(`${kind}: declares no subscribe, and refuses resources/subscribe and unsubscribe as method-not-found saying where they are offered`, async () => {
      await fx.withClient(kind, fx.readOnlyA, async (client) => {
        assert.deepEqual(client.getServerCapabilities()?.['resources'], { listChanged: false });
        const c = client as unknown as { subscribeResource(p: { uri: string }): Promise<unknown>; unsubscribeResource(p: { uri: string }): Promise<unknown> };
        for (const refused of [await rpcFailure(c.subscribeResource({ uri: GRAPHS })), await rpcFailure(c.unsubscribeResource({ uri: GRAPHS }))]) {
          assert.equal(refused.code, -32601);
          assert.match(refused.message, /^Resource subscriptions are not offered on \/mcp in the 2025 revisions: .* SSE session \(\/sse\) or stdio, or use subscriptions\/listen on \/mcp in 2026-07-28/);
        }
      });
    });
  }

  for (const kind of ['v2 2026-07-28 /mcp', 'v2 2026-07-28 stdio'] as const satisfies readonly ClientKind[]) {
    it(`${kind}: declares subscribe, for subscriptions/listen (test/listen.test.ts)`, async () => {
      await fx.withClient(kind, fx.readOnlyA, async (client) => {
        assert.deepEqual(client.getServerCapabilities()?.['resources'], { subscribe: true, listChanged: false });
      });
    });
  }

  it('2026-07-28 on the wire: resources/subscribe sent anyway is method-not-found', async () => {
    const response = await postModern(fx.gateway.url, fx.tokenA, 'resources/subscribe', { uri: GRAPHS });
    const body = (await response.json()) as { error?: { code: number; message: string } };
    assert.equal(body.error?.code, -32601, JSON.stringify(body));
  });
});

describe('notifications/resources/updated on an SSE session', () => {
  it("the graph list: one notice when A creates a graph, one when A deletes it; B's list subscription hears nothing of A's", async () => {
    const writerA = await writer(fx.tokenA);
    const writerB = await writer(fx.tokenB);
    const a = await sseWatcher(fx.tokenA);
    const b = await sseWatcher(fx.tokenB);
    // Each session's marker first, then what is watched.
    await write(writerA, 'a-marker', 'CREATE (:Start)');
    await write(writerB, 'b-marker', 'CREATE (:Start)');
    assert.deepEqual(await a.subscribe(schemaOf('a-marker')), {});
    assert.deepEqual(await a.subscribe(GRAPHS), {});
    assert.deepEqual(await b.subscribe(schemaOf('b-marker')), {});
    assert.deepEqual(await b.subscribe(GRAPHS), {});
    // b-marker was created before B subscribed: B's list is what it read first.
    await write(writerA, 'fresh', 'CREATE (:Made)');
    await a.seen(GRAPHS, 1);
    await mustCall(writerA, 'falkordb_delete_graph', { graphName: 'fresh' });
    await a.seen(GRAPHS, 2);
    await onePollLater(a, { client: writerA, graph: 'a-marker', labels: nextLabel });
    await onePollLater(b, { client: writerB, graph: 'b-marker', labels: nextLabel });
    assert.equal(a.count(GRAPHS), 2, JSON.stringify(a.updates));
    assert.equal(b.count(GRAPHS), 0, JSON.stringify(b.updates));
    assert.deepEqual([...new Set(b.updates)], [schemaOf('b-marker')]);
    assert.deepEqual([...new Set(a.updates)].sort(), [GRAPHS, schemaOf('a-marker')].sort());
  });

  it('a schema: a new label, a new property and a new index each give one notice; a write of more of the same gives none; unsubscribe stops them', async () => {
    const writerA = await writer(fx.tokenA);
    const a = await sseWatcher(fx.tokenA);
    await write(writerA, 'mark', 'CREATE (:Start)');
    await write(writerA, 'watched', "CREATE (:Item {name: 'a'})-[:IN {since: 1}]->(:Shelf {code: 'x'})");
    const watched = schemaOf('watched');
    await a.subscribe(schemaOf('mark'));
    await a.subscribe(watched);
    const marker = { client: writerA, graph: 'mark', labels: nextLabel };

    // Counts change, names do not.
    await write(writerA, 'watched', "CREATE (:Item {name: 'b'})-[:IN {since: 2}]->(:Shelf {code: 'y'})");
    await onePollLater(a, marker);
    assert.equal(a.count(watched), 0, JSON.stringify(a.updates));

    await write(writerA, 'watched', 'CREATE (:Tag)');
    await a.seen(watched, 1);
    await write(writerA, 'watched', 'MATCH (i:Item) SET i.price = 1');
    await a.seen(watched, 2);
    await write(writerA, 'watched', 'CREATE INDEX FOR (i:Item) ON (i.name)');
    await a.seen(watched, 3);
    await onePollLater(a, marker);
    assert.equal(a.count(watched), 3, `one notice per change: ${JSON.stringify(a.updates)}`);

    assert.deepEqual(await a.unsubscribe(watched), {});
    await write(writerA, 'watched', 'CREATE (:Another {fresh: 1})');
    await onePollLater(a, marker);
    assert.equal(a.count(watched), 3, JSON.stringify(a.updates));
    // Unsubscribing from what the session never subscribed to is no error.
    assert.deepEqual(await a.unsubscribe(schemaOf('never-watched')), {});
  });

  it('a watched graph that is deleted is announced, and stays watched: made again, it is announced again', async () => {
    const writerA = await writer(fx.tokenA);
    const a = await sseWatcher(fx.tokenA);
    await write(writerA, 'doomed', 'CREATE (:Here)');
    const doomed = schemaOf('doomed');
    await a.subscribe(doomed);
    await mustCall(writerA, 'falkordb_delete_graph', { graphName: 'doomed' });
    await a.seen(doomed, 1);
    await write(writerA, 'doomed', 'CREATE (:Here)');
    await a.seen(doomed, 2);
  });

  it('a read-only token subscribes, and hears of the writes another client of its tenant makes', async () => {
    const writerA = await writer(fx.tokenA);
    const a = await sseWatcher(fx.readOnlyA);
    await write(writerA, 'ro-watched', 'CREATE (:Before)');
    await a.subscribe(GRAPHS);
    await a.subscribe(schemaOf('ro-watched'));
    await write(writerA, 'ro-watched', 'CREATE (:After)');
    await a.seen(schemaOf('ro-watched'), 1);
    await write(writerA, 'ro-new', 'CREATE (:New)');
    await a.seen(GRAPHS, 1);
  });
});

describe('what a subscription is refused', () => {
  it('a 33rd subscription in one session, with the limit in words; the same URI again is no new one', async () => {
    const names = Array.from({ length: 31 }, (_, i) => `cap-${String(i).padStart(2, '0')}`);
    for (const name of names) await seedGraph(fx.gateway, TENANT_A, name);
    const a = await sseWatcher(fx.readOnlyA);
    await a.subscribe(GRAPHS);
    for (const name of names) await a.subscribe(schemaOf(name));
    // 32 now; subscribing again to one of them changes nothing.
    assert.deepEqual(await a.subscribe(schemaOf('cap-00')), {});
    const refused = await rpcFailure(a.subscribe(schemaOf('movies')));
    assert.equal(refused.code, -32600);
    assert.match(refused.message, /already has 32 resource subscriptions, the most one session may hold\. Unsubscribe .*resources\/unsubscribe/);
    await a.unsubscribe(schemaOf('cap-00'));
    assert.deepEqual(await a.subscribe(schemaOf('movies')), {});
  });

  it('a URI that is none of the resources, a graph name that is not valid percent-encoding, and a name that breaks the rule, each in its own words', async () => {
    const a = await sseWatcher(fx.tokenA);
    for (const uri of ['falkordb://other', 'test://static-text', 'falkordb://graphs/movies', 'falkordb://graphs/movies/schema/x']) {
      const refused = await rpcFailure(a.subscribe(uri));
      assert.equal(refused.code, -32602, uri);
      assert.match(refused.message, /is not a resource this gateway can watch\. Subscribe to falkordb:\/\/graphs \(your graph list\) or falkordb:\/\/graphs\/\{graph\}\/schema/, uri);
    }
    const malformed = await rpcFailure(a.subscribe('falkordb://graphs/%E0%A4%A/schema'));
    assert.equal(malformed.code, -32602);
    assert.match(malformed.message, /the graph name is not valid percent-encoding/);
    const badName = await rpcFailure(a.subscribe('falkordb://graphs/bad%20name/schema'));
    assert.equal(badName.code, -32602);
    assert.match(badName.message, /not allowed: use 1 to 128 characters/);
  });

  it("B subscribing to a schema of A's is refused exactly as a graph nobody has, naming nothing of A", async () => {
    const b = await sseWatcher(fx.tokenB);
    const theirs = await rpcFailure(b.subscribe(schemaOf('movies')));
    const nobody = await rpcFailure(b.subscribe(schemaOf('never-made')));
    assert.equal(theirs.code, -32602);
    assert.equal(theirs.code, nobody.code);
    assert.match(theirs.message, /Graph "movies" does not exist/);
    assert.equal(theirs.message.replace('movies', '<graph>'), nobody.message.replace('never-made', '<graph>'));
    assert.deepEqual(theirs.data, { uri: schemaOf('movies') });
    assert.doesNotMatch(theirs.message, new RegExp(`${TENANT_A}|${TENANT_B}|gw:`));
    // And A, who has it, may.
    const a = await sseWatcher(fx.readOnlyA);
    assert.deepEqual(await a.subscribe(schemaOf('movies')), {});
    assert.doesNotMatch(JSON.stringify([theirs, nobody]), LEAK);
  });

  it("a token confined to some graphs cannot watch another graph's schema, and its graph list hears nothing of graphs outside its claim", async () => {
    const confined = await signTestToken(TENANT_A, { scope: 'read', claims: { graphs: ['movies', 'confined-mark'] } });
    const writerA = await writer(fx.tokenA);
    await write(writerA, 'confined-mark', 'CREATE (:Start)');
    const a = await sseWatcher(confined);
    const forbidden = await rpcFailure(a.subscribe(schemaOf('common')));
    assert.equal(forbidden.code, -32600);
    assert.equal((forbidden.data as { code: string }).code, 'GRAPH_FORBIDDEN');
    await a.subscribe(schemaOf('confined-mark'));
    await a.subscribe(GRAPHS);
    await write(writerA, 'outside-claim', 'CREATE (:Out)');
    await onePollLater(a, { client: writerA, graph: 'confined-mark', labels: nextLabel });
    assert.equal(a.count(GRAPHS), 0, JSON.stringify(a.updates));
  });

  it('a session whose tenant is past its request rate is refused the subscription, as any request of its', async () => {
    const gateway = await startTestGateway(fx.db.url, { RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_BURST: '0' });
    try {
      const token = await signTestToken('sub-rate', { scope: 'read' });
      const a = await sseWatcher(token, gateway);
      let refused: { code: number; message: string; data: unknown } | undefined;
      for (let i = 0; i < 10 && refused === undefined; i++) {
        try {
          await a.subscribe(GRAPHS);
          await a.unsubscribe(GRAPHS);
        } catch (error) {
          refused = await rpcFailure(Promise.reject(error));
        }
      }
      assert.ok(refused !== undefined, 'subscribing ten times in a row was never refused');
      assert.equal((refused.data as { code: string }).code, 'RATE_LIMITED');
      await a.client.close();
    } finally {
      await gateway.stop();
    }
  });
});

describe('changes made by other paths, and stdio', () => {
  it('an SSE subscription hears of a graph made through a second gateway instance and a label added over stdio, on the same database', async () => {
    const second = await startTestGateway(fx.db.url);
    const stdio = await connectStdioClient(TENANT_A, { FALKORDB_URL: fx.db.url }, 'read write');
    open.push(stdio);
    try {
      const writerA = await writer(fx.tokenA);
      await write(writerA, 'shared', 'CREATE (:Start)');
      const a = await sseWatcher(fx.readOnlyA);
      await a.subscribe(GRAPHS);
      await a.subscribe(schemaOf('shared'));
      await write(await writer(fx.tokenA, second), 'via-second', 'CREATE (:Made)');
      await a.seen(GRAPHS, 1);
      await write(stdio, 'shared', 'CREATE (:FromStdio)');
      await a.seen(schemaOf('shared'), 1);
    } finally {
      await stdio.close();
      await second.stop();
    }
  });

  it('a stdio subscription hears of a graph made through the gateway, and of nothing of B', async () => {
    const s = watching(await connectStdioClient(TENANT_A, { FALKORDB_URL: fx.db.url }, 'read'));
    try {
      const writerA = await writer(fx.tokenA);
      const writerB = await writer(fx.tokenB);
      await write(writerA, 'stdio-mark', 'CREATE (:Start)');
      await s.subscribe(schemaOf('stdio-mark'));
      await s.subscribe(GRAPHS);
      await write(writerB, 'b-only', 'CREATE (:BLabel)');
      await onePollLater(s, { client: writerA, graph: 'stdio-mark', labels: nextLabel });
      assert.equal(s.count(GRAPHS), 0, JSON.stringify(s.updates));
      await write(writerA, 'via-gateway', 'CREATE (:Made)');
      await s.seen(GRAPHS, 1);
      const refused = await rpcFailure(s.subscribe(schemaOf('b-only')));
      assert.equal(refused.code, -32602);
      assert.doesNotMatch(refused.message, LEAK);
    } finally {
      await s.client.close();
    }
  });
});

describe('the end of a session', () => {
  it('closing the SSE session stops its reads: the graph list token is not read again', async () => {
    const tenant = 'sub-close';
    const token = await signTestToken(tenant);
    const writerC = await writer(token);
    await write(writerC, 'first', 'CREATE (:Start)');
    const c = await sseWatcher(token);
    await c.subscribe(GRAPHS);
    await write(writerC, 'second', 'CREATE (:Start)');
    await c.seen(GRAPHS, 1);
    // Only this session reads the tenant's list token now: how long since it was last read.
    const key = stateKeys.cacheGraphListVersion(tenant);
    const idleSeconds = async () => Number(await fx.gateway.database.db.sendCommand(['OBJECT', 'IDLETIME', key]));
    assert.ok((await idleSeconds()) <= 2, 'the session reads the token every poll');
    await c.client.close();
    await writerC.close();
    // With a poll every 2 s the token would never be idle this long.
    await waitFor('the graph list token left unread for 6 s', async () => ((await idleSeconds()) >= 6 ? true : undefined), 40_000);
  });
});
