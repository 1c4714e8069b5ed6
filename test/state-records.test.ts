// Tenant, issued-token, refresh and enrolment records read back from the
// database server are checked against their schema: a record changed by hand
// (or by another program) is refused with an error naming its key and the
// wrong field, never with what it holds; a gateway's announcement that does
// not parse is skipped.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { isGatewayError } from '../src/errors.js';
import { stateKeys } from '../src/state/keys.js';
import { StateStore } from '../src/state/store.js';
import { TenantRegistry } from '../src/state/tenants.js';
import { EnrolmentCodes, normaliseEnrolmentCode } from '../src/state/enrolments.js';
import { liveGateways } from '../src/auth/gateways.js';
import { StateAdapter } from '../src/oauth/adapter.js';
import { RefreshTokens } from '../src/state/refresh.js';
import { TokenLedger } from '../src/state/tokens.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';

let server: TestFalkorDB;
let db: Database;
let tenants: TenantRegistry;

before(async () => {
  server = await startTestFalkorDB();
  db = await connectDatabase({ url: server.url, connectTimeoutMs: 5000, logger: testLogger() });
  tenants = new TenantRegistry(new StateStore(db));
});

after(async () => {
  await db?.close();
  await server?.cleanup();
});

/** Writes a tenant's record as given, the way a hand edit in redis-cli would. */
async function writeRaw(id: string, text: string): Promise<string> {
  const key = stateKeys.tenant(id);
  await db.sendCommand(['SET', key, text]);
  await db.sendCommand(['SADD', stateKeys.tenantIndex(), id]);
  return key;
}

function stateRecordInvalid(key: string, field: RegExp, secret?: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isGatewayError(error), String(error));
    assert.equal(error.code, 'STATE_RECORD_INVALID');
    assert.equal(error.httpStatus, 500);
    assert.ok(error.message.startsWith(`The tenant record stored at ${key} cannot be read: `), error.message);
    assert.match(error.message, field);
    if (secret !== undefined) assert.ok(!error.message.includes(secret), `the message quotes the record: ${error.message}`);
    assert.deepEqual(error.details, { key, kind: 'tenant' });
    return true;
  };
}

describe('a tenant record that does not parse', () => {
  // First of these tests: list reads every registered record, the bad ones the others write too.
  it('is refused by list and by a change, which writes nothing', async () => {
    const added = await tenants.add({ id: 'bad-quota' });
    const text = JSON.stringify({ ...added, storageQuotaBytes: -1 });
    const key = await writeRaw('bad-quota', text);
    await assert.rejects(tenants.list(), stateRecordInvalid(key, /: storageQuotaBytes: too small/));
    await assert.rejects(tenants.setEnabled('bad-quota', false), stateRecordInvalid(key, /storageQuotaBytes/));
    assert.equal(await db.sendCommand(['GET', key]), text);
  });
  it('is refused by get with the key and the field, not the value', async () => {
    const added = await tenants.add({ id: 'bad-ips', allowIps: ['10.0.0.0/8'] });
    const key = await writeRaw('bad-ips', JSON.stringify({ ...added, allowIps: ['10.0.0.0/8', 'not-an-address-s3cret'] }));
    await assert.rejects(tenants.get('bad-ips'), stateRecordInvalid(key, /: allowIps\[1\] is not an IP address or CIDR range\. /, 's3cret'));
  });

  it('names a field of the wrong type', async () => {
    const added = await tenants.add({ id: 'bad-status' });
    const key = await writeRaw('bad-status', JSON.stringify({ ...added, status: 'paused' }));
    await assert.rejects(tenants.get('bad-status'), stateRecordInvalid(key, /: status: invalid option: expected one of "enabled"\|"disabled"\. /, 'paused'));
  });

  it('names a graph rule under a scope that does not exist', async () => {
    const added = await tenants.add({ id: 'bad-rules' });
    const key = await writeRaw('bad-rules', JSON.stringify({ ...added, graphRules: { read: ['sales_*'], owner: ['x'] } }));
    await assert.rejects(tenants.get('bad-rules'), stateRecordInvalid(key, /: graphRules: unrecognized key/));
  });

  it('names a missing field', async () => {
    const { createdAt: _createdAt, ...rest } = await tenants.add({ id: 'no-created' });
    const key = await writeRaw('no-created', JSON.stringify(rest));
    await assert.rejects(tenants.get('no-created'), stateRecordInvalid(key, /: createdAt: invalid input: expected number, received undefined\. /));
  });

  it('says so when the record is not JSON at all', async () => {
    const key = await writeRaw('not-json', '{"id": "not-json", "publicKeyPem": "-----BEGIN');
    await assert.rejects(tenants.get('not-json'), stateRecordInvalid(key, /: it is not JSON\. /, 'BEGIN'));
  });

});

describe('a tenant record with fields this version does not know', () => {
  it('is read, and a change keeps those fields', async () => {
    const added = await tenants.add({ id: 'newer' });
    const key = await writeRaw('newer', JSON.stringify({ ...added, region: 'eu-1' }));
    assert.equal((await tenants.get('newer'))?.status, 'enabled');
    await tenants.setEnabled('newer', false);
    const stored = JSON.parse(String(await db.sendCommand(['GET', key]))) as Record<string, unknown>;
    assert.equal(stored['status'], 'disabled');
    assert.equal(stored['region'], 'eu-1');
  });
});

describe('an issued-token record that does not parse', () => {
  it('is refused by the ledger with the key and the field', async () => {
    const ledger = new TokenLedger(new StateStore(db));
    const nowSec = Math.floor(Date.now() / 1000);
    await ledger.record({ jti: 'jti-1', tenant: 'ledger', scopes: ['read'], issuedAt: nowSec, expiresAt: nowSec + 600 });
    const key = stateKeys.token('jti-1');
    await db.sendCommand(['SET', key, JSON.stringify({ jti: 'jti-1', tenant: 'ledger', scopes: 'read', issuedAt: nowSec, expiresAt: nowSec + 600 })]);
    for (const read of [ledger.get('jti-1'), ledger.listTenant('ledger')]) {
      await assert.rejects(read, (error) => {
        assert.ok(isGatewayError(error), String(error));
        assert.equal(error.code, 'STATE_RECORD_INVALID');
        assert.ok(error.message.startsWith(`The issued token record stored at ${key} cannot be read: scopes: invalid input: expected array, received string. `), error.message);
        return true;
      });
    }
  });
});

describe('refresh records that do not parse', () => {
  function invalid(prefix: string, field: string): (error: unknown) => boolean {
    return (error) => {
      assert.ok(isGatewayError(error), String(error));
      assert.equal(error.code, 'STATE_RECORD_INVALID');
      assert.ok(error.message.startsWith(prefix), error.message);
      assert.ok(error.message.includes(` cannot be read: ${field}`), error.message);
      return true;
    };
  }

  it('refuses a refresh token record, its family record and its revocation marker, each by key and field', async () => {
    const store = new StateStore(db);
    const refresh = new RefreshTokens(store, new TokenLedger(store));
    const { token, record } = await refresh.create({ tenant: 'refresher', scopes: ['read'], ttlSec: 600, issuedAt: Math.floor(Date.now() / 1000), client: 'app' });
    const familyKey = stateKeys.family(record.family);
    const stored = String(await db.sendCommand(['GET', familyKey]));
    await db.sendCommand(['SET', familyKey, JSON.stringify({ ...(JSON.parse(stored) as object), scopes: 'read' })]);
    await assert.rejects(refresh.family(record.family), invalid(`The refresh family record stored at ${familyKey} `, 'scopes: invalid input: expected array'));

    await db.sendCommand(['SET', familyKey, stored]);
    const markerKey = stateKeys.familyRevoked(record.family);
    await db.sendCommand(['SET', markerKey, JSON.stringify({ at: 'yesterday', reason: 'x' })]);
    await assert.rejects(refresh.family(record.family), invalid(`The family revocation record stored at ${markerKey} `, 'at: invalid input: expected number'));
    await db.sendCommand(['DEL', markerKey]);

    // Stored under the token's SHA-256, never the token itself.
    const refreshKey = stateKeys.refresh(createHash('sha256').update(token).digest('hex'));
    assert.equal(await db.sendCommand(['EXISTS', refreshKey]), 1);
    await db.sendCommand(['SET', refreshKey, JSON.stringify({ ...record, client: 42 })]);
    await assert.rejects(refresh.peek(token), invalid(`The refresh token record stored at ${refreshKey} `, 'client: invalid input: expected string'));
    await assert.rejects(refresh.consume(token), invalid(`The refresh token record stored at ${refreshKey} `, 'client: invalid input: expected string'));
  });
});

describe('an enrolment record that does not parse', () => {
  it('is refused when the code is used, by key and field', async () => {
    const codes = new EnrolmentCodes(new StateStore(db));
    const { code, record } = await codes.create({ tenant: 'enrolled', device: 'phone', scopes: ['read'], ttlSec: 600, createdBy: 'test' });
    const key = stateKeys.enrolment(createHash('sha256').update(normaliseEnrolmentCode(code)!).digest('hex'));
    assert.equal(await db.sendCommand(['EXISTS', key]), 1);
    await db.sendCommand(['SET', key, JSON.stringify({ ...record, scopes: ['read', 'owner'] })]);
    for (const use of [codes.peek(code), codes.consume(code)]) {
      await assert.rejects(use, (error) => {
        assert.ok(isGatewayError(error), String(error));
        assert.equal(error.code, 'STATE_RECORD_INVALID');
        assert.ok(error.message.startsWith(`The enrolment code record stored at ${key} cannot be read: scopes[1]: invalid option: expected one of "read"|"write"|"admin". `), error.message);
        return true;
      });
    }
  });
});

describe('an OAuth authorization server record that does not parse', () => {
  it('is refused by the adapter with the model, the key and the field, so oidc-provider fails the request instead of acting on it', async () => {
    const adapter = new StateAdapter('Session', new StateStore(db));
    await adapter.upsert('sess-1', { uid: 'uid-1', accountId: 'acct', exp: 1 }, 600);
    const key = stateKeys.oauth('Session', 'sess-1');
    const refused = (problem: string) => (error: unknown) => {
      assert.ok(isGatewayError(error), String(error));
      assert.equal(error.code, 'STATE_RECORD_INVALID');
      assert.ok(error.message.startsWith(`The OAuth Session record stored at ${key} cannot be read: ${problem}`), error.message);
      assert.ok(!error.message.includes('s3cret'), error.message);
      assert.deepEqual(error.details, { key, kind: 'OAuth Session' });
      return true;
    };
    for (const [text, problem] of [
      [JSON.stringify({ uid: ['s3cret'], accountId: 'acct' }), 'uid: invalid input: expected string'],
      [JSON.stringify(['s3cret']), 'the record itself: invalid input: expected object'],
      ['{"uid": "s3cret', 'it is not JSON'],
    ] as const) {
      await db.sendCommand(['SET', key, text]);
      await assert.rejects(adapter.find('sess-1'), refused(problem));
      await assert.rejects(adapter.findByUid('uid-1'), refused(problem));
    }
    // What oidc-provider stored beyond the fields checked is its own, given back as stored.
    await db.sendCommand(['SET', key, JSON.stringify({ uid: 'uid-1', accountId: 'acct', authorizations: { app: { sid: 's' } }, future: 1 })]);
    assert.deepEqual(await adapter.find('sess-1'), { uid: 'uid-1', accountId: 'acct', authorizations: { app: { sid: 's' } }, future: 1 });
  });
});

describe('gateway presence announcements', () => {
  it('skips one that does not parse and keeps the others', async () => {
    const presence = {
      instance: 'i-1', host: 'h', pid: 1, version: '0.0.0', url: 'http://127.0.0.1:3003', startedAt: 1, devMode: false,
      acceptedKids: [], jwks: false, issuer: 'iss', audience: 'aud', tenantClaim: 'sub', requireRegistration: true, database: 'test',
    };
    const until = String(Date.now() + 60_000);
    await db.sendCommand(['ZADD', stateKeys.gateways(), until, JSON.stringify(presence), until, JSON.stringify({ ...presence, instance: 'i-2', acceptedKids: 'all' })]);
    assert.deepEqual((await liveGateways(new StateStore(db))).map((g) => g.instance), ['i-1']);
  });
});
