// Revocation and tenant status across two gateway instances on one FalkorDB:
// whatever one instance (or the CLI) decides, the other obeys within a second.
// Instances keep these facts in memory and learn of changes from the policy
// change stream, so every writer is checked to note its change there.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenIssuer } from '../src/auth/issue.js';
import { loadConfig } from '../src/config/index.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { runCli } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { STATE_CACHE_EXPIRY_MS, probeMcp } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let a: RunningGateway;
let b: RunningGateway;
let cliEnv: Record<string, string>;

before(async () => {
  db = await startTestFalkorDB();
  const keyFile = await writeSigningKey(await tempDir());
  const env = { AUTH_SIGNING_KEY_FILE: keyFile };
  a = await startTestGateway(db.url, env);
  b = await startTestGateway(db.url, env);
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent' };
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await db?.cleanup();
});

async function issue(tenant: string, device?: string): Promise<{ token: string; jti: string }> {
  const issued = await a.issuer!.issue({ tenant, scopes: ['read', 'write'], ...(device === undefined ? {} : { device }), actor: 'test' });
  return { token: issued.accessToken, jti: issued.jti };
}

async function assertAccepted(gateway: RunningGateway, token: string): Promise<void> {
  const probe = await probeMcp(gateway.url, token);
  assert.equal(probe.status, 200, JSON.stringify(probe.body));
}

async function assertRefused(gateway: RunningGateway, token: string, status: number, code: string): Promise<string> {
  const probe = await probeMcp(gateway.url, token);
  assert.equal(probe.status, status, JSON.stringify(probe.body));
  assert.equal(probe.body['code'], code);
  return String(probe.body['message']);
}

describe('revocation', () => {
  it('refuses a token revoked by jti on the other instance within a second', async () => {
    const { token, jti } = await issue('rev-jti', 'laptop');
    await assertAccepted(b, token); // b now holds the token in its cache
    const done = await runCli(['token', 'revoke', '--jti', jti], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Revoked token/);
    await sleep(STATE_CACHE_EXPIRY_MS);
    const message = await assertRefused(b, token, 401, 'TOKEN_REVOKED');
    assert.match(message, /revoked at/);
    await assertRefused(a, token, 401, 'TOKEN_REVOKED');
    const probe = await probeMcp(b.url, token);
    assert.match(probe.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.ok(!JSON.stringify(probe.body).includes(token), 'the refusal never echoes the token');
  });

  it('revokes a token given itself on stdin, and keeps the others of the device', async () => {
    const first = await issue('rev-self', 'laptop');
    const second = await issue('rev-self', 'laptop');
    const done = await runCli(['token', 'revoke', '-'], cliEnv, `${first.token}\n`);
    assert.equal(done.code, 0, done.stderr);
    await sleep(STATE_CACHE_EXPIRY_MS);
    await assertRefused(b, first.token, 401, 'TOKEN_REVOKED');
    await assertAccepted(b, second.token);
  });

  it('revokes every token of one device and no other device', async () => {
    const laptop1 = await issue('rev-device', 'laptop');
    const laptop2 = await issue('rev-device', 'laptop');
    const desktop = await issue('rev-device', 'desktop');
    await assertAccepted(b, laptop1.token);
    const done = await runCli(['token', 'revoke', '--device', 'laptop', '--tenant', 'rev-device'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    await sleep(STATE_CACHE_EXPIRY_MS);
    await assertRefused(b, laptop1.token, 401, 'TOKEN_REVOKED');
    await assertRefused(b, laptop2.token, 401, 'TOKEN_REVOKED');
    await assertAccepted(b, desktop.token);
    // A new token for the same device, issued right after, is not caught by the cut-off.
    const fresh = await issue('rev-device', 'laptop');
    await assertAccepted(b, fresh.token);
  });

  it("revokes every token of a tenant issued before now, and not another tenant's", async () => {
    const mine = [await issue('rev-tenant', 'one'), await issue('rev-tenant', 'two'), await issue('rev-tenant')];
    const other = await issue('rev-tenant-other', 'one');
    for (const t of mine) await assertAccepted(b, t.token);
    const done = await runCli(['token', 'revoke', '--tenant', 'rev-tenant', '--json'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.equal((JSON.parse(done.stdout) as { revoked: boolean }).revoked, true);
    const fresh = await issue('rev-tenant', 'one');
    await sleep(STATE_CACHE_EXPIRY_MS);
    for (const t of mine) await assertRefused(b, t.token, 401, 'TOKEN_REVOKED');
    await assertAccepted(b, other.token);
    await assertAccepted(b, fresh.token);
  });

  it('issues a token right after a tenant cut-off past it, even when the wait ends a moment before the clock reaches the next second', async () => {
    const cutoff = await a.state.ledger.revokeTenant('rev-early-timer');
    // The clock a timer that fires early sees: before and after the wait, the last millisecond of the cut-off's second.
    const lagging = new TokenIssuer({ signingKey: a.signingKey!, state: a.state, auth: loadConfig({}).auth, requireRegistration: false, now: () => cutoff * 1000 + 999 });
    const issued = await lagging.issue({ tenant: 'rev-early-timer', scopes: ['read'], actor: 'test' });
    const iat = (JSON.parse(Buffer.from(issued.accessToken.split('.')[1] ?? '', 'base64url').toString()) as { iat: number }).iat;
    assert.ok(iat > cutoff, `iat ${iat} is not past the cut-off ${cutoff}`);
  });

  it('revokes tokens from a shared-secret identity provider by tenant too', async () => {
    const token = await signTestToken('rev-idp');
    await assertAccepted(b, token);
    await a.state.ledger.revokeTenant('rev-idp');
    await sleep(STATE_CACHE_EXPIRY_MS);
    await assertRefused(b, token, 401, 'TOKEN_REVOKED');
  });

  it('ends an SSE session whose token is revoked', async () => {
    const { token, jti } = await issue('rev-sse', 'laptop');
    const client = await connectClient('sse-header', b.url, token);
    try {
      assert.equal((await callTool(client, 'falkordb_list_graphs')).ok, true);
      await a.state.ledger.revokeJti(jti, undefined);
      await sleep(STATE_CACHE_EXPIRY_MS);
      await assert.rejects(callTool(client, 'falkordb_list_graphs'));
    } finally {
      await client.close();
    }
  });
});

describe('tenant status', () => {
  it("refuses a disabled tenant's tokens on every instance within a second, and accepts them again once enabled", async () => {
    const { token } = await issue('status-off', 'laptop');
    await a.state.tenants.add({ id: 'status-off' });
    await assertAccepted(b, token);
    await a.state.tenants.setEnabled('status-off', false);
    await sleep(STATE_CACHE_EXPIRY_MS);
    const message = await assertRefused(b, token, 403, 'TENANT_DISABLED');
    assert.match(message, /disabled/);
    await assertRefused(a, token, 403, 'TENANT_DISABLED');
    await a.state.tenants.setEnabled('status-off', true);
    await sleep(STATE_CACHE_EXPIRY_MS);
    await assertAccepted(b, token);
  });

  it('refuses to issue tokens for a disabled tenant', async () => {
    await a.state.tenants.add({ id: 'status-issue' });
    await a.state.tenants.setEnabled('status-issue', false);
    await assert.rejects(a.issuer!.issue({ tenant: 'status-issue', scopes: ['read'], actor: 'test' }), { code: 'TENANT_DISABLED' });
  });

  it('refuses unregistered tenants when TENANTS_REQUIRE_REGISTRATION is on', async () => {
    const strict = await startTestGateway(db.url, { TENANTS_REQUIRE_REGISTRATION: 'true' });
    try {
      const token = await signTestToken('strict-unknown');
      const message = await assertRefused(strict, token, 403, 'TENANT_NOT_REGISTERED');
      assert.match(message, /not registered/);
      await a.state.tenants.add({ id: 'strict-known' });
      await assertAccepted(strict, await signTestToken('strict-known'));
      // Without the setting, unknown tenants pass (the dev default).
      await assertAccepted(b, token);
    } finally {
      await strict.stop();
    }
  });

  it("refuses a tenant's token from an address outside the tenant's allowed ranges", async () => {
    await a.state.tenants.add({ id: 'ip-far', allowIps: ['10.0.0.0/8'] });
    await a.state.tenants.add({ id: 'ip-near', allowIps: ['10.0.0.0/8', '127.0.0.1/32'] });
    const message = await assertRefused(b, await signTestToken('ip-far'), 403, 'IP_FORBIDDEN');
    assert.match(message, /may not connect from/);
    await assertAccepted(b, await signTestToken('ip-near'));
  });
});

describe('every writer of the policy notes its change for the other instances', () => {
  /** The changes noted while `write` ran, as `tenant:<id>` / `jti:<id>`. */
  async function notedBy(write: () => Promise<unknown>): Promise<string[]> {
    const stream = stateKeys.policyChanges();
    const newest = (await a.state.store.command(['XREVRANGE', stream, '+', '-', 'COUNT', '1'])) as Array<[string, string[]]>;
    await write();
    const entries = (await a.state.store.command(['XRANGE', stream, newest[0]?.[0] ?? '-', '+'])) as Array<[string, string[]]>;
    return entries.filter(([id]) => id !== newest[0]?.[0]).map(([, fields]) => fields.join(':'));
  }

  it('notes the tenant or token of each write, in the same script as the write', async () => {
    await a.state.tenants.add({ id: 'noted' });
    const { jti } = await issue('noted', 'laptop');
    const writes: Array<[string, () => Promise<unknown>, string[]]> = [
      ['add', () => a.state.tenants.add({ id: 'noted-new' }), ['tenant:noted-new']],
      ['setEnabled', () => a.state.tenants.setEnabled('noted', false), ['tenant:noted']],
      ['grantGraphs', () => a.state.tenants.grantGraphs('noted', 'read', ['r_*']), ['tenant:noted']],
      ['revokeGraphs', () => a.state.tenants.revokeGraphs('noted', 'read', ['r_*']), ['tenant:noted']],
      ['setStorageQuota', () => a.state.tenants.setStorageQuota('noted', 1000), ['tenant:noted']],
      ['revokeJti', () => a.state.ledger.revokeJti(jti, undefined), [`jti:${jti}`]],
      ['revokeDevice', () => a.state.ledger.revokeDevice('noted', 'laptop'), ['tenant:noted']],
      ['revokeTenant', () => a.state.ledger.revokeTenant('noted'), ['tenant:noted']],
      ['remove', () => a.state.tenants.remove('noted'), ['tenant:noted']],
    ];
    for (const [name, write, expected] of writes) assert.deepEqual(await notedBy(write), expected, name);
    // A write that changes nothing notes nothing.
    assert.deepEqual(await notedBy(() => a.state.tenants.add({ id: 'noted-new' }).catch(() => undefined)), [], 'add of an existing tenant');
  });

  it('accepts a tenant added after the other instance refused it as not registered, within a second', async () => {
    const strict = await startTestGateway(db.url, { TENANTS_REQUIRE_REGISTRATION: 'true' });
    try {
      const token = await signTestToken('late-add');
      await assertRefused(strict, token, 403, 'TENANT_NOT_REGISTERED');
      await a.state.tenants.add({ id: 'late-add' });
      await sleep(STATE_CACHE_EXPIRY_MS);
      await assertAccepted(strict, token);
      await a.state.tenants.remove('late-add');
      await sleep(STATE_CACHE_EXPIRY_MS);
      await assertRefused(strict, token, 403, 'TENANT_NOT_REGISTERED');
    } finally {
      await strict.stop();
    }
  });

  it("applies a tenant's new graph rules on the other instance within a second", async () => {
    await a.state.tenants.add({ id: 'rules-live' });
    const { token } = await issue('rules-live');
    const client = await connectClient('http', b.url, token);
    const readG1 = async () => (await callTool(client, 'falkordb_query', { graphName: 'g1', query: 'RETURN 1' })).error?.code;
    try {
      assert.notEqual(await readG1(), 'GRAPH_FORBIDDEN');
      await a.state.tenants.grantGraphs('rules-live', 'read', ['other_*']);
      await sleep(STATE_CACHE_EXPIRY_MS);
      assert.equal(await readG1(), 'GRAPH_FORBIDDEN');
      await a.state.tenants.grantGraphs('rules-live', 'read', ['g1']);
      await sleep(STATE_CACHE_EXPIRY_MS);
      assert.notEqual(await readG1(), 'GRAPH_FORBIDDEN');
    } finally {
      await client.close();
    }
  });
});
