// Two gateway instances behind a plain round-robin balancer (no stickiness):
// one client's consecutive /mcp calls alternate between them and all succeed,
// and what one instance decides (revocation, the rate limit) binds the other.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { STATE_CACHE_EXPIRY_MS, probeMcp } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';

const RATE = 12;

interface RoundRobin {
  url: string;
  /** Index of the upstream each forwarded request went to, in order. */
  upstreams: number[];
  close(): Promise<void>;
}

/** A reverse proxy that sends each request to the next upstream in turn. */
async function startRoundRobin(targets: string[]): Promise<RoundRobin> {
  const upstreams: number[] = [];
  let next = 0;
  const server = http.createServer((req, res) => {
    const index = next++ % targets.length;
    upstreams.push(index);
    const target = new URL(req.url ?? '/', targets[index]);
    const forward = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    upstreams,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let db: TestFalkorDB;
const gateways: RunningGateway[] = [];
let balancer: RoundRobin;
const clients: Client[] = [];

before(async () => {
  db = await startTestFalkorDB();
  const keyFile = await writeSigningKey(await tempDir());
  const env = { AUTH_SIGNING_KEY_FILE: keyFile, RATE_LIMIT_PER_MINUTE: String(RATE), RATE_LIMIT_BURST: '0' };
  gateways.push(await startTestGateway(db.url, env), await startTestGateway(db.url, env));
  balancer = await startRoundRobin(gateways.map((g) => g.url));
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await balancer?.close();
  for (const gateway of gateways) await gateway.stop();
  await db?.cleanup();
});

async function issue(tenant: string): Promise<{ token: string; jti: string; expiresAt: number }> {
  const issued = await gateways[0]!.issuer!.issue({ tenant, scopes: ['read', 'write'], device: 'laptop', actor: 'test' });
  return { token: issued.accessToken, jti: issued.jti, expiresAt: issued.expiresAt };
}

describe('two instances behind a round-robin balancer', () => {
  it("alternates one client's calls between the instances, and every call succeeds", async () => {
    const { token } = await issue('rr-alternate');
    const client = await connectClient('http', balancer.url, token);
    clients.push(client);
    const from = balancer.upstreams.length;
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Item {n: 0})' });
    for (let i = 1; i < 8; i++) {
      await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (x:Item) WITH max(x.n) AS top CREATE (:Item {n: top + 1})' });
    }
    const counted = await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (x:Item) RETURN count(x) AS c, max(x.n) AS top' });
    const served = balancer.upstreams.slice(from);
    assert.deepEqual(
      served.slice(1).map((u, i) => u !== served[i]),
      served.slice(1).map(() => true),
      'consecutive requests went to different instances',
    );
    assert.ok(served.includes(0) && served.includes(1), 'both instances served calls');
    // Each write saw the one before it, whichever instance ran it.
    assert.deepEqual(counted['rows'], [{ c: 8, top: 7 }]);
  });

  it('refuses a token revoked through one instance on every instance, within a second', async () => {
    const { token, jti, expiresAt } = await issue('rr-revoke');
    const client = await connectClient('http', balancer.url, token);
    clients.push(client);
    await mustCall(client, 'falkordb_list_graphs');
    await gateways[1]!.state.ledger.revokeJti(jti, expiresAt);
    await sleep(STATE_CACHE_EXPIRY_MS);
    const from = balancer.upstreams.length;
    for (let i = 0; i < 4; i++) {
      const refusal = await callTool(client, 'falkordb_list_graphs').then(
        (outcome) => `not refused: ${JSON.stringify(outcome)}`,
        (error: unknown) => String(error),
      );
      assert.match(refusal, /"code":"TOKEN_REVOKED"/, `call ${i} after revocation`);
    }
    assert.deepEqual(new Set(balancer.upstreams.slice(from)), new Set([0, 1]), 'both instances refused');
  });

  it('counts one rate limit for the tenant across both instances', async () => {
    const { token } = await issue('rr-rate');
    const from = balancer.upstreams.length;
    const statuses: number[] = [];
    for (let i = 0; i < RATE + 4; i++) statuses.push((await probeMcp(balancer.url, token)).status);
    assert.deepEqual(new Set(balancer.upstreams.slice(from)), new Set([0, 1]), 'requests went to both instances');
    assert.deepEqual(statuses.slice(0, RATE), Array(RATE).fill(200), `the first ${RATE} requests pass`);
    assert.deepEqual(statuses.slice(RATE), Array(4).fill(429), 'then every instance refuses, whichever one it is');
  });
});
