// One-time enrolment codes: made by `device enrol` (or `client-config --client
// claude-connector|chatgpt`), stored only hashed in the shared state, seen by every
// instance, spent once by the sign-in page. Against a real FalkorDB; the commands
// run as an operator runs them, in a child process.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createEnrolment, enrolmentUsedEvent } from '../src/auth/enrol.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { createLogger } from '../src/logger.js';
import { ENROLMENT_CODE_ALPHABET, EnrolmentCodes, normaliseEnrolmentCode, type EnrolmentRecord } from '../src/state/enrolments.js';
import { openGatewayState, type GatewayState } from '../src/gateway-state.js';
import { stateKeys } from '../src/state/keys.js';
import { StateStore } from '../src/state/store.js';
import { TenantRegistry } from '../src/state/tenants.js';
import { runCli } from './support/cli.js';
import { databaseText, startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { tempDir, writeSigningKey } from './support/keys.js';

let server: TestFalkorDB;
let dbA: Database;
let dbB: Database;
let storeA: StateStore;
let storeB: StateStore;
let tenants: TenantRegistry;
let dir: string;
let env: Record<string, string>;

const CODE_SHAPE = new RegExp(`^[${ENROLMENT_CODE_ALPHABET}]{4}(-[${ENROLMENT_CODE_ALPHABET}]{4}){3}$`);
const AUDIT_OFF = { queryText: false, logFile: undefined, streamMaxLen: 1000 } as const;

before(async () => {
  server = await startTestFalkorDB();
  dir = await tempDir('enrolment-');
  env = { FALKORDB_URL: server.url, AUTH_SIGNING_KEY_FILE: await writeSigningKey(dir), LOG_LEVEL: 'silent' };
  // Two connections, as two gateway instances (or the CLI and an instance) have.
  dbA = await connectDatabase({ url: server.url, connectTimeoutMs: 5000, logger: testLogger() });
  dbB = await connectDatabase({ url: server.url, connectTimeoutMs: 5000, logger: testLogger() });
  storeA = new StateStore(dbA);
  storeB = new StateStore(dbB);
  tenants = new TenantRegistry(storeA);
});

after(async () => {
  await dbA?.close();
  await dbB?.close();
  await server?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const GRANT = { tenant: 'enrol-acme', device: 'alice-phone', scopes: ['read', 'write'] as const, ttlSec: 900, createdBy: 'test' };

/** The events of one tenant's audit stream, as field maps. */
async function auditEvents(tenant: string): Promise<Array<Record<string, string>>> {
  const reply = (await storeA.command(['XRANGE', stateKeys.tenantAudit(tenant), '-', '+'])) as Array<[string, string[]]>;
  return reply.map(([, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return fields;
  });
}

describe('enrolment codes in the shared state', () => {
  it('makes a code of four groups of four unambiguous characters, which another instance can peek at and then spend once', async () => {
    const { code, record } = await new EnrolmentCodes(storeA).create(GRANT);
    assert.match(code, CODE_SHAPE);
    assert.deepEqual({ ...record, id: undefined, createdAt: undefined, expiresAt: undefined }, { tenant: 'enrol-acme', device: 'alice-phone', scopes: ['read', 'write'], createdBy: 'test', id: undefined, createdAt: undefined, expiresAt: undefined });
    assert.equal(record.expiresAt - record.createdAt, 900);
    assert.ok(!record.id.includes(code.replace(/-/g, '')), 'the id is not the code');

    const other = new EnrolmentCodes(storeB);
    assert.deepEqual(await other.peek(code), record);
    assert.deepEqual(await other.peek(code), record, 'peeking does not spend the code');
    assert.deepEqual(await other.consume(code), { status: 'ok', record });
    assert.deepEqual(await new EnrolmentCodes(storeA).consume(code), { status: 'used', record });
    assert.equal(await other.peek(code), undefined, 'a used code is no longer valid');
  });

  it('makes a different code each time', async () => {
    const codes = new EnrolmentCodes(storeA);
    const made = await Promise.all(Array.from({ length: 20 }, () => codes.create(GRANT)));
    assert.equal(new Set(made.map((m) => m.code)).size, 20);
    assert.equal(new Set(made.map((m) => m.record.id)).size, 20);
  });

  it('of many concurrent uses of one code from two instances, lets exactly one through', async () => {
    const { code } = await new EnrolmentCodes(storeA).create(GRANT);
    const a = new EnrolmentCodes(storeA);
    const b = new EnrolmentCodes(storeB);
    const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).consume(code)));
    const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : `rejected: ${String(r.reason)}`));
    assert.equal(statuses.filter((s) => s === 'ok').length, 1, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 'used').length, 15, statuses.join(' '));
  });

  it('stops accepting a code once it has expired, and lets the database drop it then', async () => {
    let now = Date.UTC(2030, 0, 1);
    const codes = new EnrolmentCodes(storeA, () => now);
    const { code, record } = await codes.create({ ...GRANT, ttlSec: 600 });
    now += 599_000;
    assert.deepEqual(await codes.peek(code), record);
    now += 1000;
    assert.equal(await codes.peek(code), undefined);
    assert.deepEqual(await codes.consume(code), { status: 'unknown' });

    // The record's key expires at expiresAt, so an unused code does not stay in the database.
    const real = await new EnrolmentCodes(storeA).create({ ...GRANT, ttlSec: 60 });
    const keys = (await storeA.command(['KEYS', 'gw:enrolment:*'])) as string[];
    const expiries = await Promise.all(keys.map(async (k) => Number(await storeA.command(['PEXPIRETIME', k]))));
    assert.ok(expiries.includes(real.record.expiresAt * 1000), `some key expires at ${real.record.expiresAt * 1000}: ${expiries.join(' ')}`);
    assert.ok(expiries.every((e) => e > 0), 'every enrolment key expires');
  });

  it('accepts the code typed in lower case, with spaces or hyphens anywhere, and with O, I or L for 0 and 1', async () => {
    const codes = new EnrolmentCodes(storeA);
    const { code, record } = await codes.create(GRANT);
    const compact = code.replace(/-/g, '');
    for (const typed of [compact, compact.toLowerCase(), ` ${code.toLowerCase()} `, compact.replace(/(.{2})/g, '$1 '), compact.split('').join('-'), code.replace(/-/g, '\u2013'), code.replace(/-/g, '\u2014')]) {
      assert.equal(normaliseEnrolmentCode(typed), code, typed);
      assert.deepEqual(await codes.peek(typed), record, typed);
    }
    assert.equal(normaliseEnrolmentCode('0OO0-1IL1-lilo-ABCD'), '0000-1111-1110-ABCD');
    assert.deepEqual(await codes.consume(compact.toLowerCase()), { status: 'ok', record });
    assert.deepEqual(await codes.consume(code), { status: 'used', record });
  });

  it('treats anything that is not code-shaped as unknown, without throwing', async () => {
    const codes = new EnrolmentCodes(storeA);
    const bad: unknown[] = ['', 'ABCD-EFGH-JKMN-PQR', 'ABCD-EFGH-JKMN-PQRST', 'ABCD-EFGH-JKMN-PQRU', 'ABCD_EFGH_JKMN_PQRS', 'ABCD-EFGH-JKMN-PQR!', 'x'.repeat(10_000), '{x}', undefined, null, 42];
    for (const input of bad) {
      assert.equal(normaliseEnrolmentCode(input as string), undefined, String(input).slice(0, 30));
      assert.equal(await codes.peek(input as string), undefined);
      assert.deepEqual(await codes.consume(input as string), { status: 'unknown' });
    }
    assert.deepEqual(await codes.consume('ABCD-EFGH-JKMN-PQRS'), { status: 'unknown' }, 'a well-formed code nobody made');
  });

  it('refuses a lifetime above 24 hours, or none, and a grant without a scope', async () => {
    const codes = new EnrolmentCodes(storeA);
    await assert.rejects(codes.create({ ...GRANT, ttlSec: 24 * 3600 + 1 }), /at most 1d/);
    await assert.rejects(codes.create({ ...GRANT, ttlSec: 0 }), /whole seconds above zero/);
    await assert.rejects(codes.create({ ...GRANT, scopes: [] }), /at least one scope/);
    await assert.rejects(codes.create({ ...GRANT, device: 'no spaces' }), /device name/);
    const longest = await codes.create({ ...GRANT, ttlSec: 24 * 3600 });
    assert.equal(longest.record.expiresAt - longest.record.createdAt, 24 * 3600);
  });

  it('never stores the code itself: not in any key or value of the database, used or not', async () => {
    const codes = new EnrolmentCodes(storeA);
    const made = [await codes.create(GRANT), await codes.create({ ...GRANT, graphs: ['reports_*'] })];
    await codes.consume(made[0]!.code);
    const text = (await databaseText(dbA)).toUpperCase();
    for (const { code } of made) {
      assert.ok(!text.includes(code), 'printed form found');
      assert.ok(!text.includes(code.replace(/-/g, '')), 'compact form found');
    }
  });

  it('creates through the operator path only for a tenant that may hold tokens, and audits creation and use without the code', async () => {
    const state: GatewayState = openGatewayState(dbA, createLogger('silent'), AUDIT_OFF);
    await tenants.add({ id: 'enrol-off' });
    await tenants.setEnabled('enrol-off', false);
    await assert.rejects(createEnrolment({ state, requireRegistration: false }, { ...GRANT, tenant: 'enrol-off' }), (e: Error & { code?: string }) => e.code === 'TENANT_DISABLED');
    await assert.rejects(createEnrolment({ state, requireRegistration: true }, { ...GRANT, tenant: 'enrol-nobody' }), (e: Error & { code?: string }) => e.code === 'TENANT_NOT_REGISTERED');
    assert.deepEqual(await auditEvents('enrol-off'), [], 'nothing audited for a refused code');

    const { code, record } = await createEnrolment({ state, requireRegistration: false }, { ...GRANT, tenant: 'enrol-audited', graphs: ['a_*'] });
    const used = await state.enrolments.consume(code);
    assert.equal(used.status, 'ok');
    await state.audit.record(enrolmentUsedEvent((used as { record: EnrolmentRecord }).record, { actor: 'oauth', clientIp: '203.0.113.9', jti: 'j-1' }));
    await state.audit.flush();
    const events = await auditEvents('enrol-audited');
    assert.deepEqual(
      events.map((e) => [e['event'], e['tenant'], e['device'], e['actor']]),
      [
        ['enrolment_created', 'enrol-audited', 'alice-phone', 'test'],
        ['enrolment_used', 'enrol-audited', 'alice-phone', 'oauth'],
      ],
    );
    assert.match(events[0]!['detail']!, new RegExp(`enrolment=${record.id} scopes=read write graphs=a_\\* expires=`));
    assert.equal(events[1]!['clientIp'], '203.0.113.9');
    assert.equal(events[1]!['jti'], 'j-1');
    assert.ok(!JSON.stringify(events).toUpperCase().includes(code.replace(/-/g, '')) && !JSON.stringify(events).includes(code), 'the code is not in the audit trail');
  });
});

function assertOneLineError(done: { code: number | null; stdout: string; stderr: string }, exit: number, pattern: RegExp): void {
  assert.equal(done.code, exit, done.stderr);
  assert.match(done.stderr, /^falkordb-mcp-gateway: [^\n]+\n$/, done.stderr);
  assert.match(done.stderr, pattern);
  assert.equal(done.stdout, '');
}

/** The code printed on a line of its own, indented. */
function printedCode(stdout: string): string {
  const match = /^ {4}(\S+)$/m.exec(stdout);
  assert.ok(match, stdout);
  return match[1]!;
}

describe('device enrol', () => {
  it('prints the code, its expiry, the URL to add and what to do; the code works, for what was asked, and its creation is audited', async () => {
    const done = await runCli(['device', 'enrol', '--tenant', 'enrol-cli', '--device', 'bob-phone', '--scope', 'read', '--url', 'https://gw.example.com'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stderr, '');
    const code = printedCode(done.stdout);
    assert.match(code, CODE_SHAPE);
    assert.match(done.stdout, /Enrolment code for tenant "enrol-cli", device "bob-phone", scopes read:/);
    assert.match(done.stdout, /It works once, until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(15m\)\./);
    assert.match(done.stdout, /^URL: +https:\/\/gw\.example\.com\/mcp$/m);
    assert.match(done.stdout, /Add https:\/\/gw\.example\.com\/mcp as a custom connector, then enter this code when asked\./);

    const record = await new EnrolmentCodes(storeB).peek(code);
    assert.ok(record);
    assert.deepEqual([record.tenant, record.device, record.scopes, record.createdBy, record.expiresAt - record.createdAt], ['enrol-cli', 'bob-phone', ['read'], 'cli', 900]);
    const events = await auditEvents('enrol-cli');
    assert.deepEqual(events.map((e) => [e['event'], e['device'], e['actor']]), [['enrolment_created', 'bob-phone', 'cli']]);
    assert.match(events[0]!['detail']!, /scopes=read /);
    assert.ok(!JSON.stringify(events).includes(code));
  });

  it('--json prints {code, tenant, device, scopes, graphs, expiresAt, url}, with the URL from PUBLIC_URL', async () => {
    const done = await runCli(['device', 'enrol', '--tenant', 'enrol-cli', '--device', 'tablet', '--scope', 'read write', '--graphs', 'reports_*,sales', '--ttl', '2h', '--json'], { ...env, PUBLIC_URL: 'https://graphs.example.com/' });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stderr, '');
    const printed = JSON.parse(done.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(printed), ['code', 'tenant', 'device', 'scopes', 'graphs', 'expiresAt', 'url']);
    assert.match(String(printed['code']), CODE_SHAPE);
    assert.deepEqual([printed['tenant'], printed['device'], printed['scopes'], printed['graphs'], printed['url']], ['enrol-cli', 'tablet', ['read', 'write'], ['reports_*', 'sales'], 'https://graphs.example.com/mcp']);
    const record = await new EnrolmentCodes(storeA).peek(String(printed['code']));
    assert.equal(printed['expiresAt'], new Date(record!.expiresAt * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    assert.equal(record!.expiresAt - record!.createdAt, 7200);
  });

  it('warns on stderr when the URL is not https, since connectors need a public https URL', async () => {
    const done = await runCli(['device', 'enrol', '--tenant', 'enrol-cli', '--device', 'laptop', '--json'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.equal((JSON.parse(done.stdout) as { url: string }).url, 'http://127.0.0.1:3003/mcp');
    assert.match(done.stderr, /^Warning: http:\/\/127\.0\.0\.1:3003\/mcp is not https\. .*need a public https URL: set PUBLIC_URL/);
  });

  it('refuses bad input with one clear line and makes no code', async () => {
    // Other tests' codes expire meanwhile, so what is checked is that none was made for this tenant.
    const codesOf = async (tenant: string) => {
      const keys = (await storeA.command(['KEYS', 'gw:enrolment:*'])) as string[];
      const values = await Promise.all(keys.map((k) => storeA.get(k)));
      return values.filter((v) => v !== undefined && (JSON.parse(v) as { tenant?: string }).tenant === tenant).length;
    };
    const base = ['device', 'enrol', '--tenant', 'enrol-bad', '--device', 'phone'];
    const cases: Array<[string[], RegExp]> = [
      [['device', 'enrol', '--tenant', 't'.repeat(257), '--device', 'phone'], /The tenant id is longer than 256 characters/],
      [['device', 'enrol', '--tenant', 'enrol-bad', '--device', 'my phone'], /The device name "my phone" is not valid/],
      [[...base, '--scope', 'read delete'], /Unknown scope "delete"; scopes are: read, write, admin/],
      [[...base, '--ttl', '25h'], /--ttl 25h is longer than 1d, the most an enrolment code may live.*--ttl 15m/],
      [[...base, '--ttl', 'soon'], /"soon" is not a duration; write a whole number above zero/],
      [[...base, '--graphs', 'a b'], /--graphs: "a b" is not allowed/],
      [[...base, '--url', 'ftp://gw.example.com'], /--url must start with https:\/\//],
    ];
    for (const [args, pattern] of cases) assertOneLineError(await runCli(args, env), 2, pattern);
    const missing = await runCli(['device', 'enrol', '--tenant', 'enrol-bad'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--device <name>' not specified/);
    assert.equal(await codesOf('enrol-bad'), 0);
  });

  it('refuses a disabled tenant, and an unregistered one when registration is required', async () => {
    await tenants.add({ id: 'enrol-paused' });
    await tenants.setEnabled('enrol-paused', false);
    assertOneLineError(await runCli(['device', 'enrol', '--tenant', 'enrol-paused', '--device', 'phone'], env), 1, /Tenant "enrol-paused" is disabled; enable it first \(tenant enable enrol-paused\)/);
    assertOneLineError(await runCli(['device', 'enrol', '--tenant', 'enrol-stranger', '--device', 'phone'], { ...env, TENANTS_REQUIRE_REGISTRATION: 'true' }), 1, /Tenant "enrol-stranger" is not registered and TENANTS_REQUIRE_REGISTRATION is on; add it first/);
  });

  it('refuses when the gateway does not sign its own tokens, saying what to set', async () => {
    const noKey = { FALKORDB_URL: server.url, AUTH_JWT_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent' };
    assertOneLineError(await runCli(['device', 'enrol', '--tenant', 'enrol-cli', '--device', 'phone'], noKey), 2, /No enrolment code was made: this gateway does not sign its own tokens.*Set AUTH_SIGNING_KEY_FILE/);
  });
});

describe('client-config for connectors', () => {
  it('--client claude-connector prints an enrolment code and the steps in Claude, with no token', async () => {
    const done = await runCli(['client-config', '--client', 'claude-connector', '--tenant', 'enrol-cc', '--device', 'carol-phone', '--url', 'https://gw.example.com'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stderr, '');
    const code = printedCode(done.stdout);
    assert.match(code, CODE_SHAPE);
    assert.match(done.stdout, /Settings → Connectors → Add custom connector/);
    assert.match(done.stdout, /paste the URL: https:\/\/gw\.example\.com\/mcp/);
    assert.ok(done.stdout.includes(`Enter code ${code} on the sign-in page`), done.stdout);
    assert.match(done.stdout, /Claude Desktop and Claude's mobile apps share the connectors of the account/);
    assert.doesNotMatch(done.stdout, /eyJ[\w-]+\.[\w-]+\.[\w-]+/, 'no token printed');
    const record = await new EnrolmentCodes(storeA).peek(code);
    assert.deepEqual([record?.tenant, record?.device, record?.scopes, record!.expiresAt - record!.createdAt], ['enrol-cc', 'carol-phone', ['read', 'write'], 900]);
  });

  it('--client chatgpt prints the steps in ChatGPT (developer mode, OAuth), and --json the same facts', async () => {
    const text = await runCli(['client-config', '--client', 'chatgpt', '--tenant', 'enrol-cc', '--device', 'dave-laptop', '--scope', 'read', '--url', 'https://gw.example.com'], env);
    assert.equal(text.code, 0, text.stderr);
    const code = printedCode(text.stdout);
    assert.match(text.stdout, /developer mode/);
    assert.match(text.stdout, /MCP server URL https:\/\/gw\.example\.com\/mcp, authentication OAuth/);
    assert.ok(text.stdout.includes(`Enter code ${code} on the sign-in page`));

    const json = await runCli(['client-config', '--client', 'chatgpt', '--tenant', 'enrol-cc', '--device', 'dave-laptop', '--ttl', '1h', '--json', '--url', 'https://gw.example.com'], env);
    assert.equal(json.code, 0, json.stderr);
    const printed = JSON.parse(json.stdout) as { client: string; code: string; url: string; steps: string[]; scopes: string[] };
    assert.equal(printed.client, 'chatgpt');
    assert.equal(printed.url, 'https://gw.example.com/mcp');
    assert.ok(printed.steps.some((s) => s.includes(printed.code)));
    const record = await new EnrolmentCodes(storeA).peek(printed.code);
    assert.equal(record!.expiresAt - record!.createdAt, 3600);
  });

  it('warns when the URL is not https, and refuses --write and a token-length --ttl', async () => {
    const plain = await runCli(['client-config', '--client', 'claude-connector', '--tenant', 'enrol-cc', '--device', 'erin-phone'], env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /^Warning: http:\/\/127\.0\.0\.1:3003\/mcp is not https\..*set PUBLIC_URL/);
    assertOneLineError(await runCli(['client-config', '--client', 'claude-connector', '--tenant', 'enrol-cc', '--device', 'erin-phone', '--write'], env), 2, /--client claude-connector has no config file/);
    assertOneLineError(await runCli(['client-config', '--client', 'chatgpt', '--tenant', 'enrol-cc', '--device', 'erin-phone', '--ttl', '90d'], env), 2, /--ttl 90d is longer than 1d/);
    assertOneLineError(await runCli(['client-config', '--client', 'chatgpt', '--tenant', 'enrol-cc'], env), 2, /--device is needed/);
  });
});
