// The in-flight gauge (falkordb_gateway_in_flight) an autoscaler weighs each
// pod by (deploy/k8s/hpa.yaml), read through real scrapes of /metrics while
// real clients of two tenants have slow calls running, over /mcp (SDK v1 and
// the v2 client in 2026-07-28) and over a legacy SSE session.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import type { RunningGateway } from '../src/main.js';
import { METRIC_PREFIX } from '../src/observability/metric-families.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { waitFor } from './support/topology.js';
import { signTestToken } from './support/tokens.js';

const GAUGE = `${METRIC_PREFIX}in_flight`;
// Hundreds of millions of rows that match nothing: the query keeps running until its timeout, however fast the machine.
const SLOW_QUERY = 'WITH range(1, 10000) AS r UNWIND range(1, 100000) AS a UNWIND r AS x WITH x WHERE x < 0 RETURN count(x) AS n';
const SLOW_MS = 4000;
const WAIT_MS = 30_000;

let db: TestFalkorDB;
let gateway: RunningGateway;
let acme: Client;
let globex: Client;
let acmeModern: ClientV2;

/** Every sample of the gauge in one scrape, as `labels → value`. */
async function gaugeSamples(): Promise<Array<{ labels: string; value: number }>> {
  assert.ok(gateway.metricsUrl !== undefined, 'the gateway has a metrics listener');
  const res = await fetch(gateway.metricsUrl);
  assert.equal(res.status, 200);
  const text = await res.text();
  return [...text.matchAll(new RegExp(`^${GAUGE}(\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => ({ labels: m[1] ?? '', value: Number(m[2]) }));
}

async function inFlight(): Promise<number> {
  const samples = await gaugeSamples();
  assert.equal(samples.length, 1, `one ${GAUGE} sample per scrape`);
  return samples[0]!.value;
}

/** Scrapes until the gauge satisfies `ok`, and returns the value it had then. */
function gaugeUntil(what: string, ok: (value: number) => boolean): Promise<number> {
  return waitFor(what, async () => {
    const value = await inFlight();
    return ok(value) ? value : undefined;
  }, WAIT_MS);
}

const slowCall = (client: Client, graphName: string) => callTool(client, 'falkordb_query', { graphName, query: SLOW_QUERY, timeoutMs: SLOW_MS });

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url, { METRICS_PORT: '0' });
  acme = await connectClient('http', gateway.url, await signTestToken('acme'));
  globex = await connectClient('sse-header', gateway.url, await signTestToken('globex'));
  acmeModern = new ClientV2({ name: 'in-flight-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await acmeModern.connect(new HttpTransportV2(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${await signTestToken('acme')}` } } }));
  await mustCall(acme, 'falkordb_query', { graphName: 'orders', query: 'CREATE (:Seed)' });
  await mustCall(globex, 'falkordb_query', { graphName: 'ledger', query: 'CREATE (:Seed)' });
});

after(async () => {
  await Promise.allSettled([acme?.close(), globex?.close(), acmeModern?.close()]);
  await gateway?.stop();
  await db?.cleanup();
});

describe('the in-flight gauge', { timeout: 120_000 }, () => {
  it('reads 0 while nothing runs, as one sample without labels (no tenant in it)', async () => {
    await gaugeUntil('nothing in flight', (v) => v === 0);
    assert.deepEqual(await gaugeSamples(), [{ labels: '', value: 0 }]);
  });

  it('counts a tool call over /mcp while it runs, with its POST, and drops back to 0 once it ended', async () => {
    const call = slowCall(acme, 'orders');
    // Two: the call, and the POST that carries it.
    assert.equal(await gaugeUntil('the /mcp call in flight', (v) => v === 2), 2);
    const outcome = await call;
    assert.equal(outcome.error?.code, 'QUERY_TIMEOUT', outcome.text);
    await gaugeUntil('nothing in flight after the call', (v) => v === 0);
  });

  it('counts a call of a 2026-07-28 client the same way', async () => {
    const call = acmeModern.callTool({ name: 'falkordb_query', arguments: { graphName: 'orders', query: SLOW_QUERY, timeoutMs: SLOW_MS } });
    assert.equal(await gaugeUntil('the 2026-07-28 call in flight', (v) => v === 2), 2);
    const result = await call;
    assert.equal(result.isError, true, 'the slow query ran until its timeout');
    await gaugeUntil('nothing in flight after the call', (v) => v === 0);
  });

  it('counts a tool call of an SSE session once: its POST was answered 202 before the call ran', async () => {
    const call = slowCall(globex, 'ledger');
    // Anything above 1 is the POST still open; it is answered at once, and the call alone is left.
    assert.equal(await gaugeUntil('the SSE call alone in flight', (v) => v === 1), 1);
    const outcome = await call;
    assert.equal(outcome.error?.code, 'QUERY_TIMEOUT', outcome.text);
    await gaugeUntil('nothing in flight after the call', (v) => v === 0);
  });

  it('adds up the calls of both tenants at once, and is 0 once both ended', async () => {
    const calls = [slowCall(acme, 'orders'), slowCall(globex, 'ledger')];
    // The /mcp call (with its POST) and the SSE call: three once both run.
    assert.equal(await gaugeUntil('both tenants\' calls in flight', (v) => v === 3), 3);
    for (const outcome of await Promise.all(calls)) assert.equal(outcome.error?.code, 'QUERY_TIMEOUT', outcome.text);
    await gaugeUntil('nothing in flight after both calls', (v) => v === 0);
  });
});
