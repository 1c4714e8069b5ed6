// Dedicated instances (SERVE_TENANTS) on one real FalkorDB: an instance serves
// its own tenants' valid tokens and refuses every other tenant's with 403
// TENANT_NOT_SERVED on each door (/mcp, /sse, /readyz with a token), in words
// that name no tenant it serves; the refusal is in the audit trail with the
// instance's name, counted as a denial, and never as a failed authentication
// against the caller's address.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { probeMcp } from './support/http.js';
import { connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const SERVED = 'ded-a';
const OTHER = 'ded-b';
const PREMIUM = 'prem-1';
const INSTANCE = 'gw-ded-a-0';

let db: TestFalkorDB;
let dedicated: RunningGateway;
let pattern: RunningGateway;
let shared: RunningGateway;
let pool: RunningGateway;
const clients: Client[] = [];

before(async () => {
  db = await startTestFalkorDB();
  // A low limit on failed authentications per address: refusals of valid tokens must not use it up.
  dedicated = await startTestGateway(db.url, { SERVE_TENANTS: SERVED, INSTANCE_NAME: INSTANCE, METRICS_PORT: '0', AUTH_FAILURES_PER_MINUTE: '2' });
  pattern = await startTestGateway(db.url, { SERVE_TENANTS: 'prem-*', INSTANCE_NAME: 'gw-prem-0' });
  shared = await startTestGateway(db.url);
  // The shared pool beside a dedicated one: every tenant but the dedicated one.
  pool = await startTestGateway(db.url, { SERVE_TENANTS: `*,!${SERVED}` });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await dedicated?.stop();
  await pattern?.stop();
  await shared?.stop();
  await pool?.stop();
  await db?.cleanup();
});

async function client(gateway: RunningGateway, tenant: string, kind: 'http' | 'sse-header' = 'http'): Promise<Client> {
  const c = await connectClient(kind, gateway.url, await signTestToken(tenant));
  clients.push(c);
  return c;
}

interface Refusal {
  status: number;
  code: unknown;
  message: string;
}

async function refusalOf(response: Response): Promise<Refusal> {
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, code: body['code'], message: String(body['message']) };
}

/** The refusal's words name the caller's own tenant only: no tenant or pattern the instance serves. */
function assertNamesNoOtherTenant(message: string, served: readonly string[]): void {
  for (const name of served) assert.ok(!message.includes(name), `the refusal names no tenant the instance serves (${name}): ${message}`);
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(gateway: RunningGateway): Promise<Sample[]> {
  assert.ok(gateway.metricsUrl !== undefined, 'the gateway has a metrics listener');
  const text = await (await fetch(gateway.metricsUrl)).text();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = raw!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a counter over the samples whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/** The tenant's audit events, once the instance has written what it holds. */
async function auditEvents(gateway: RunningGateway, tenant: string): Promise<Array<Record<string, string>>> {
  await gateway.state.audit.flush();
  const reply = (await gateway.state.store.command(['XRANGE', stateKeys.tenantAudit(tenant), '-', '+'])) as Array<[string, string[]]>;
  return reply.map(([, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return fields;
  });
}

describe('an instance dedicated to one tenant (SERVE_TENANTS=ded-a)', () => {
  it("serves its tenant's valid token over /mcp and /sse", async () => {
    for (const kind of ['http', 'sse-header'] as const) {
      const c = await client(dedicated, SERVED, kind);
      await mustCall(c, 'falkordb_query', { graphName: `own-${kind}`, query: 'CREATE (:Own)' });
      const listed = await mustCall(c, 'falkordb_list_graphs');
      assert.ok((listed['graphs'] as string[]).includes(`own-${kind}`), kind);
    }
    const ready = await fetch(`${dedicated.url}/readyz`, { headers: { Authorization: `Bearer ${await signTestToken(SERVED)}` } });
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as Record<string, unknown>)['status'], 'ready');
  });

  it("refuses another tenant's valid token on /mcp with 403 TENANT_NOT_SERVED, naming no tenant it serves", async () => {
    const token = await signTestToken(OTHER);
    const probe = await probeMcp(dedicated.url, token);
    assert.equal(probe.status, 403, JSON.stringify(probe.body));
    assert.equal(probe.body['code'], 'TENANT_NOT_SERVED');
    const message = String(probe.body['message']);
    assert.match(message, /does not serve tenant "ded-b"; connect to your own gateway address/);
    assertNamesNoOtherTenant(message, [SERVED]);
    assert.ok(!JSON.stringify(probe.body).includes(token), 'the refusal never echoes the token');
    // The same token is good on an instance that serves every tenant.
    assert.equal((await probeMcp(shared.url, token)).status, 200);
  });

  it('refuses it on /sse before any stream opens, and through a real SSE client', async () => {
    const token = await signTestToken(OTHER);
    const refused = await refusalOf(await fetch(`${dedicated.url}/sse`, { headers: { Authorization: `Bearer ${token}` } }));
    assert.deepEqual([refused.status, refused.code], [403, 'TENANT_NOT_SERVED']);
    assertNamesNoOtherTenant(refused.message, [SERVED]);
    await assert.rejects(connectClient('sse-header', dedicated.url, token), /403|TENANT_NOT_SERVED|not serve/);
  });

  it('refuses it on /readyz with the token, while /readyz without one still answers', async () => {
    const refused = await refusalOf(await fetch(`${dedicated.url}/readyz`, { headers: { Authorization: `Bearer ${await signTestToken(OTHER)}` } }));
    assert.deepEqual([refused.status, refused.code], [403, 'TENANT_NOT_SERVED']);
    assertNamesNoOtherTenant(refused.message, [SERVED]);
    const anonymous = await fetch(`${dedicated.url}/readyz`);
    assert.equal(anonymous.status, 200);
    assert.ok(!JSON.stringify(await anonymous.json()).includes(SERVED), 'readiness names no tenant');
  });

  it('writes the refusal into the refused tenant\'s audit trail, with the instance\'s name', async () => {
    const tenant = 'ded-audited';
    assert.equal((await probeMcp(dedicated.url, await signTestToken(tenant))).status, 403);
    const events = await auditEvents(dedicated, tenant);
    assert.equal(events.length, 1, JSON.stringify(events));
    const [event] = events;
    assert.equal(event?.['event'], 'denied');
    assert.equal(event['errorCode'], 'TENANT_NOT_SERVED');
    assert.equal(event['tenant'], tenant);
    assert.equal(event['path'], '/mcp');
    assert.equal(event['instance'], INSTANCE);
    // A call it serves names the instance too.
    const c = await client(dedicated, SERVED);
    await mustCall(c, 'falkordb_list_graphs');
    const served = await auditEvents(dedicated, SERVED);
    assert.ok(served.length > 0 && served.every((e) => e['instance'] === INSTANCE), JSON.stringify(served));
  });

  it('counts the refusals in falkordb_gateway_denied_total{reason="tenant_not_served"}, never as failed authentications, and the address stays served', async () => {
    const before = await scrape(dedicated);
    const token = await signTestToken('ded-counted');
    // More refusals than AUTH_FAILURES_PER_MINUTE (2) allows failures: none of them is one.
    for (let i = 0; i < 5; i++) assert.equal((await probeMcp(dedicated.url, token)).status, 403);
    const after = await scrape(dedicated);
    const denied = (samples: Sample[]) => total(samples, 'falkordb_gateway_denied_total', { reason: 'tenant_not_served' });
    assert.equal(denied(after) - denied(before), 5);
    assert.equal(total(after, 'falkordb_gateway_auth_failures_total'), total(before, 'falkordb_gateway_auth_failures_total'));
    // The address is not limited: the served tenant still gets in, and so does the refused token's 403 (not 429).
    assert.equal((await probeMcp(dedicated.url, await signTestToken(SERVED))).status, 200);
    assert.equal((await probeMcp(dedicated.url, token)).status, 403);
  });
});

describe('an instance dedicated to a pattern (SERVE_TENANTS=prem-*)', () => {
  it('serves every tenant the pattern matches', async () => {
    const c = await client(pattern, PREMIUM);
    await mustCall(c, 'falkordb_query', { graphName: 'p', query: 'CREATE (:P)' });
    assert.deepEqual((await mustCall(c, 'falkordb_list_graphs'))['graphs'], ['p']);
    assert.equal((await probeMcp(pattern.url, await signTestToken('prem-2'))).status, 200);
  });

  it('refuses a tenant outside the pattern, even one whose id merely contains it', async () => {
    for (const tenant of [SERVED, 'premium', 'x-prem-1']) {
      const probe = await probeMcp(pattern.url, await signTestToken(tenant));
      assert.equal(probe.status, 403, tenant);
      assert.equal(probe.body['code'], 'TENANT_NOT_SERVED', tenant);
      assertNamesNoOtherTenant(String(probe.body['message']), ['prem-*']);
    }
  });
});

describe('a shared pool that leaves a dedicated tenant to its own instances (SERVE_TENANTS=*,!ded-a)', () => {
  it("refuses the dedicated tenant's token and serves every other tenant", async () => {
    const refused = await probeMcp(pool.url, await signTestToken(SERVED));
    assert.equal(refused.status, 403);
    assert.equal(refused.body['code'], 'TENANT_NOT_SERVED');
    for (const tenant of [OTHER, PREMIUM, `${SERVED}-2`]) assert.equal((await probeMcp(pool.url, await signTestToken(tenant))).status, 200, tenant);
    const c = await client(pool, OTHER);
    await mustCall(c, 'falkordb_list_graphs');
  });
});
