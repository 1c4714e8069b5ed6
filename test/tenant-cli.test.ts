// `tenant add | list | show | disable | enable | remove` as an operator runs them,
// against a real FalkorDB; state is arranged and checked directly in the database.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { publicKeyThumbprint } from '../src/state/key-thumbprint.js';
import type { GatewayError } from '../src/errors.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import { StateStore } from '../src/state/store.js';
import { TenantRegistry } from '../src/state/tenants.js';
import { TokenLedger } from '../src/state/tokens.js';
import { tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { ecKeyPair, tempDir, writeSigningKey } from './support/keys.js';

let server: TestFalkorDB;
let db: Database;
let graphs: GraphClient;
let tenants: TenantRegistry;
let ledger: TokenLedger;
let dir: string;
let env: Record<string, string>;

before(async () => {
  server = await startTestFalkorDB();
  dir = await tempDir('tenant-cli-');
  env = { FALKORDB_URL: server.url, AUTH_SIGNING_KEY_FILE: await writeSigningKey(dir), LOG_LEVEL: 'silent' };
  db = await connectDatabase({ url: server.url, connectTimeoutMs: 5000, logger: testLogger() });
  graphs = new GraphClient(db);
  const store = new StateStore(db);
  tenants = new TenantRegistry(store);
  ledger = new TokenLedger(store);
});

after(async () => {
  await db?.close();
  await server?.cleanup();
});

async function createGraph(tenant: string, graph: string): Promise<string> {
  const key = tenantGraphKey(tenant, graph);
  await graphs.query({ key, query: 'CREATE (:N)', readOnly: false, timeoutMs: 5000, maxRows: 10 });
  return key;
}

function assertOneLineError(stderr: string, pattern: RegExp): void {
  assert.match(stderr, /^falkordb-mcp-gateway: [^\n]+\n$/, stderr);
  assert.match(stderr, pattern);
}

// First, while the registry is still empty.
describe('tenant list on an empty registry', () => {
  it('says how to add a tenant', async () => {
    const done = await runCli(['tenant', 'list'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /No tenants are registered.*tenant add ID/);
  });
});

describe('tenant add', () => {
  it('registers a tenant with its own EC public key, stored as SPKI PEM under its thumbprint', async () => {
    const { publicKey, publicPem } = ecKeyPair();
    const file = path.join(dir, 'own.pub.pem');
    await writeFile(file, publicPem);
    const out = await runCliJson(['tenant', 'add', 'own-key', '--public-key', file, '--issuer', 'https://idp.own.example/', '--plan', 'pro', '--json'], env);
    assert.equal(out['id'], 'own-key');
    assert.equal(out['status'], 'enabled');
    assert.equal(out['plan'], 'pro');
    assert.equal(out['issuer'], 'https://idp.own.example/');
    assert.equal(out['publicKeyKid'], await publicKeyThumbprint(publicKey));
    assert.equal(out['publicKeyPem'], undefined, 'the PEM is left out of the JSON');
    assert.equal((await tenants.get('own-key'))?.publicKeyPem, publicPem);
  });

  it('registers a tenant with a JWKS URL and allowed addresses, and says what to do next', async () => {
    const url = 'https://login.jwks.example/.well-known/jwks.json';
    const done = await runCli(['tenant', 'add', 'jwks-tenant', '--jwks-url', url, '--allow-ip', '203.0.113.0/24', '--allow-ip', '2001:db8::/32'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.ok(done.stdout.includes(url), done.stdout);
    assert.ok(done.stdout.includes('203.0.113.0/24, 2001:db8::/32'), done.stdout);
    assert.ok(done.stdout.includes('token issue --tenant jwks-tenant --device NAME'), done.stdout);
    const record = await tenants.get('jwks-tenant');
    assert.equal(record?.jwksUrl, url);
    assert.deepEqual(record?.allowIps, ['203.0.113.0/24', '2001:db8::/32']);
  });

  it('refuses an allowed address that is not an IP or CIDR range, naming it, and registers nothing', async () => {
    const done = await runCli(['tenant', 'add', 'bad-cidr', '--allow-ip', '10.0.0.0/8', '--allow-ip', '10.0.0.0/33'], env);
    assert.equal(done.code, 2);
    assertOneLineError(done.stderr, /"10\.0\.0\.0\/33" is not an IP address or CIDR range/);
    assert.equal(await tenants.get('bad-cidr'), undefined);
  });

  it('refuses a JWKS URL that is not https on a non-loopback host', async () => {
    const done = await runCli(['tenant', 'add', 'plain-jwks', '--jwks-url', 'http://login.plain.example/jwks.json'], env);
    assert.equal(done.code, 2);
    assertOneLineError(done.stderr, /--jwks-url .* must be an https:\/\/ URL/);
    assert.equal(await tenants.get('plain-jwks'), undefined);
  });

  it('refuses an id that is already registered', async () => {
    await tenants.add({ id: 'taken' });
    const done = await runCli(['tenant', 'add', 'taken', '--plan', 'other'], env);
    assert.equal(done.code, 1);
    assertOneLineError(done.stderr, /Tenant "taken" is already registered/);
    assert.equal((await tenants.get('taken'))?.plan, undefined, 'the first record is untouched');
  });

  it('refuses a public key and a JWKS URL together', async () => {
    const file = path.join(dir, 'both.pub.pem');
    await writeFile(file, ecKeyPair().publicPem);
    const done = await runCli(['tenant', 'add', 'both-keys', '--public-key', file, '--jwks-url', 'https://login.both.example/jwks.json'], env);
    assert.equal(done.code, 2);
    assertOneLineError(done.stderr, /either --public-key or --jwks-url, not both/);
    assert.equal(await tenants.get('both-keys'), undefined);
  });

  it('refuses a private key file given as --public-key, and tells how to get the public half', async () => {
    const file = await writeSigningKey(dir, 'tenant-private.pem');
    const done = await runCli(['tenant', 'add', 'private-key', '--public-key', file], env);
    assert.equal(done.code, 2);
    assertOneLineError(done.stderr, /--public-key .* holds a private key; give the public key instead \(openssl pkey/);
    assert.ok(!done.stderr.includes('BEGIN'), 'no key material in the message');
    assert.equal(await tenants.get('private-key'), undefined);
  });
});

describe('tenant list', () => {
  before(async () => {
    await tenants.add({ id: 'listed-a', plan: 'team', allowIps: ['198.51.100.7'] });
    await tenants.add({ id: 'listed-b' });
    await tenants.setEnabled('listed-b', false);
  });

  it('prints a table of id, status, plan, key, allowed addresses and creation time', async () => {
    const done = await runCli(['tenant', 'list'], env);
    assert.equal(done.code, 0, done.stderr);
    const lines = done.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^ID\s+STATUS\s+PLAN\s+KEY\s+ALLOWED IPS\s+CREATED$/);
    assert.match(done.stdout, /\nlisted-a\s+enabled\s+team\s+gateway\s+198\.51\.100\.7\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n/);
    assert.match(done.stdout, /\nlisted-b\s+disabled\s+-\s+gateway\s+any\s+\S+\n/);
    assert.match(done.stdout, /\nown-key\s+enabled\s+pro\s+kid:\S+/);
    assert.match(done.stdout, /\njwks-tenant\s+enabled\s+-\s+jwks:https:\/\/login\.jwks\.example\//);
  });

  it('prints every record as JSON with --json, without public key PEMs', async () => {
    const out = await runCliJson<{ tenants: Array<Record<string, unknown>> }>(['tenant', 'list', '--json'], env);
    const ids = out.tenants.map((t) => t['id']);
    for (const id of ['listed-a', 'listed-b', 'own-key', 'jwks-tenant', 'taken']) assert.ok(ids.includes(id), `${id} in ${ids.join(',')}`);
    assert.deepEqual(ids, [...ids].sort(), 'sorted by id');
    assert.equal(out.tenants.find((t) => t['id'] === 'listed-b')?.['status'], 'disabled');
    assert.ok(out.tenants.every((t) => t['publicKeyPem'] === undefined));
    assert.equal(typeof out.tenants.find((t) => t['id'] === 'own-key')?.['publicKeyKid'], 'string');
  });
});

describe('tenant show', () => {
  it("counts the tenant's graphs, unexpired tokens and devices, and no other tenant's", async () => {
    await tenants.add({ id: 'shown' });
    await createGraph('shown', 'one');
    await createGraph('shown', 'two');
    await createGraph('shown_x', 'other');
    const now = Math.floor(Date.now() / 1000);
    for (const device of ['laptop', 'phone', 'laptop']) {
      await ledger.record({ jti: randomUUID(), tenant: 'shown', device, scopes: ['read'], issuedAt: now, expiresAt: now + 3600 });
    }
    await ledger.record({ jti: randomUUID(), tenant: 'shown', device: 'old', scopes: ['read'], issuedAt: now - 7200, expiresAt: now - 3600 });
    const out = await runCliJson(['tenant', 'show', 'shown', '--json'], env);
    assert.equal(out['id'], 'shown');
    assert.equal(out['status'], 'enabled');
    assert.equal(out['graphs'], 2);
    assert.equal(out['tokens'], 3);
    assert.deepEqual(out['devices'], ['laptop', 'phone']);
  });

  it('refuses an unknown tenant with one line on stderr and exit code 1', async () => {
    const done = await runCli(['tenant', 'show', 'nobody-here'], env);
    assert.equal(done.code, 1);
    assertOneLineError(done.stderr, /No tenant "nobody-here" is registered; see `tenant list`/);
    assert.equal(done.stdout, '');
  });
});

describe('tenant disable and enable', () => {
  it('disables a tenant, after which token issue refuses it, naming the tenant as disabled', async () => {
    await tenants.add({ id: 'to-disable' });
    const done = await runCli(['tenant', 'disable', 'to-disable'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Tenant "to-disable" is now disabled \(was enabled\)/);
    assert.match(done.stdout, /refuses its tokens within 1 second/);
    assert.equal((await tenants.get('to-disable'))?.status, 'disabled');
    const issued = await runCli(['token', 'issue', '--tenant', 'to-disable', '--device', 'laptop'], env);
    assert.equal(issued.code, 1);
    assertOneLineError(issued.stderr, /Tenant "to-disable" is disabled/);
    assert.equal(issued.stdout, '');
  });

  it('enables a disabled tenant again', async () => {
    await tenants.add({ id: 'to-enable' });
    await tenants.setEnabled('to-enable', false);
    const done = await runCli(['tenant', 'enable', 'to-enable'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Tenant "to-enable" is now enabled \(was disabled\)/);
    assert.match(done.stdout, /accepts its tokens again within 1 second/);
    const record = await tenants.get('to-enable');
    assert.equal(record?.status, 'enabled');
    assert.equal(record?.disabledAt, undefined);
  });
});

describe('tenant remove', () => {
  it('refuses without --yes when stdin is not a terminal, and changes nothing', async () => {
    await tenants.add({ id: 'kept' });
    const key = await createGraph('kept', 'g');
    const done = await runCli(['tenant', 'remove', 'kept', '--purge-graphs'], env);
    assert.equal(done.code, 2);
    assertOneLineError(done.stderr, /Nothing changed: .*add --yes to confirm\.$/m);
    assert.notEqual(await tenants.get('kept'), undefined);
    assert.deepEqual(await graphs.listKeys(tenantKeyPrefix('kept')), [key]);
  });

  it("with --purge-graphs deletes the record and the tenant's graphs, and not another tenant's of a similar name", async () => {
    // Tenant `pg_x`'s keys start `pg%5Fx_`; tenant `pg`'s graph `x_keep` is the key `pg_x_keep`.
    await tenants.add({ id: 'pg_x' });
    await tenants.add({ id: 'pg' });
    await createGraph('pg_x', 'one');
    await createGraph('pg_x', 'two');
    const neighbour = await createGraph('pg', 'x_keep');
    const done = await runCli(['tenant', 'remove', 'pg_x', '--purge-graphs', '--yes'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Removed tenant "pg_x"/);
    assert.match(done.stdout, /Deleted 2 graph\(s\)/);
    assert.equal(await tenants.get('pg_x'), undefined);
    assert.deepEqual(await graphs.listKeys(tenantKeyPrefix('pg_x')), []);
    assert.deepEqual(await graphs.listKeys(tenantKeyPrefix('pg')), [neighbour]);
    assert.notEqual(await tenants.get('pg'), undefined);
  });

  it('revokes a token issued before the removal, as token inspect reports', async () => {
    await tenants.add({ id: 'revoked-on-remove' });
    const issued = await runCli(['token', 'issue', '--tenant', 'revoked-on-remove', '--device', 'laptop'], env);
    assert.equal(issued.code, 0, issued.stderr);
    const removed = await runCli(['tenant', 'remove', 'revoked-on-remove', '--yes'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Its graphs are kept/);
    const inspected = await runCli(['token', 'inspect', '-'], env, issued.stdout);
    assert.equal(inspected.code, 1, inspected.stdout);
    assert.match(inspected.stdout, /valid:\s+no/);
    assert.match(inspected.stdout, /revoked/);
  });
});

describe('one tenant changed by two writers at once', () => {
  it('keeps both changes: a grant racing a disable neither re-enables the tenant nor is lost', async () => {
    for (let round = 0; round < 10; round++) {
      const id = `race-${round}`;
      await tenants.add({ id });
      const pattern = `sales_${round}_*`;
      // Both read the record before either writes (one connection, pipelined): the naive last write would win.
      await Promise.all([tenants.setEnabled(id, false), tenants.grantGraphs(id, 'write', [pattern])]);
      const record = await tenants.mustGet(id);
      assert.equal(record.status, 'disabled', `round ${round}: the grant undid the disable`);
      assert.deepEqual(record.graphRules?.write, [pattern], `round ${round}: the grant was lost`);
    }
  });

  it('a grant racing a removal does not bring the tenant back', async () => {
    for (let round = 0; round < 10; round++) {
      const id = `race-removed-${round}`;
      await tenants.add({ id });
      const [, granted] = await Promise.allSettled([tenants.remove(id), tenants.grantGraphs(id, 'read', ['reports_*'])]);
      assert.equal(await tenants.get(id), undefined, `round ${round}: the record is back after its removal`);
      if (granted.status === 'rejected') assert.equal((granted.reason as GatewayError).code, 'TENANT_NOT_FOUND');
    }
  });

  it('gives up with STATE_CONFLICT, changing nothing, when the record changes under every try', async () => {
    const stored = JSON.stringify({ id: 'busy', status: 'enabled', allowIps: [], createdAt: 1, updatedAt: 1 });
    let tries = 0;
    const alwaysBeaten = {
      get: () => Promise.resolve(stored),
      replaceIfUnchanged: () => {
        tries++;
        return Promise.resolve(false);
      },
    } as unknown as StateStore;
    await assert.rejects(new TenantRegistry(alwaysBeaten).setEnabled('busy', false), (error: GatewayError) => {
      assert.equal(error.code, 'STATE_CONFLICT');
      assert.match(error.message, /Run it again/);
      return true;
    });
    assert.equal(tries, 10);
  });
});
