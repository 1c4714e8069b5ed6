// The audit trail: one event per authentication decision and tool call, in the
// shared per-tenant stream (read back with `audit tail`) and in AUDIT_LOG_FILE;
// never a token, never parameter values.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { decodeJwt } from 'jose';
import { GatewayError } from '../src/errors.js';
import type { RunningGateway } from '../src/main.js';
import { AuditTrail } from '../src/observability/audit.js';
import { stateKeys } from '../src/state/keys.js';
import type { StateStore } from '../src/state/store.js';
import { runCli } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { probeMcp } from './support/http.js';
import { tempDir } from './support/keys.js';
import { seedGraph } from './support/graphs.js';
import { CLI_ENTRY, REPO_ROOT, callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { createLogger } from '../src/logger.js';

type Fields = Record<string, string>;

let db: TestFalkorDB;
/** Writes AUDIT_LOG_FILE; keeps query text out. */
let a: RunningGateway;
/** AUDIT_QUERY_TEXT=true. */
let b: RunningGateway;
let auditFile: string;
let cliEnv: Record<string, string>;
const clients: Client[] = [];

before(async () => {
  db = await startTestFalkorDB();
  auditFile = path.join(await tempDir('gw-audit-'), 'audit.log');
  a = await startTestGateway(db.url, { AUDIT_LOG_FILE: auditFile });
  b = await startTestGateway(db.url, { AUDIT_QUERY_TEXT: 'true' });
  cliEnv = { FALKORDB_URL: db.url, LOG_LEVEL: 'silent' };
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await a?.stop();
  await b?.stop();
  await db?.cleanup();
});

/** A connected MCP client of `tenant` on `gateway`, and its token's jti. */
async function clientOf(gateway: RunningGateway, tenant: string, scope = 'read write admin'): Promise<{ client: Client; token: string; jti: string }> {
  const token = await signTestToken(tenant, { scope });
  const client = await connectClient('http', gateway.url, token);
  clients.push(client);
  return { client, token, jti: String(decodeJwt(token).jti) };
}

/** Every event in a stream, once both gateways have finished writing. */
async function streamEvents(key: string): Promise<Fields[]> {
  await Promise.all([a.state.audit.flush(), b.state.audit.flush()]);
  const reply = (await a.state.store.command(['XRANGE', key, '-', '+'])) as Array<[string, string[]]>;
  return reply.map(([, flat]) => {
    const fields: Fields = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return fields;
  });
}

/** Everything the audit streams hold, as one text to search for secrets. */
async function allStreamsText(): Promise<string> {
  await Promise.all([a.state.audit.flush(), b.state.audit.flush()]);
  const keys = (await a.state.store.command(['KEYS', 'gw:audit*'])) as string[];
  const dumps = await Promise.all(keys.map((k) => a.state.store.command(['XRANGE', k, '-', '+'])));
  return JSON.stringify(dumps);
}

async function fileEvents(file = auditFile): Promise<Array<Record<string, unknown>>> {
  await a.state.audit.flush();
  const text = await readFile(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'every event ends its line');
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('audit events of tool calls', () => {
  const query = 'UNWIND range(1, 3) AS x RETURN x, $marker AS marker';

  it('records a query as query_success with the SHA-256 of its text, its duration and row count', async () => {
    const { client, jti } = await clientOf(a, 'audit-ok');
    await seedGraph(a, 'audit-ok', 'g');
    await mustCall(client, 'falkordb_query', { graphName: 'g', query, parameters: { marker: 'not-in-the-trail' } });
    const [event, ...rest] = await streamEvents(stateKeys.tenantAudit('audit-ok'));
    assert.equal(rest.length, 0, 'one event for one call');
    assert.equal(event?.['event'], 'query_success');
    assert.equal(event['tenant'], 'audit-ok');
    assert.equal(event['jti'], jti);
    assert.equal(event['tool'], 'falkordb_query');
    assert.equal(event['graph'], 'g');
    assert.equal(event['querySha256'], sha256(query));
    assert.equal(event['rowCount'], '3');
    assert.ok(Number(event['durationMs']) >= 0, `durationMs is a number, got ${event['durationMs']}`);
    assert.match(event['clientIp'] ?? '', /127\.0\.0\.1/);
    assert.ok(!Number.isNaN(Date.parse(event['time'] ?? '')), 'time is a date');
    assert.equal(event['query'], undefined, 'no query text unless AUDIT_QUERY_TEXT is on');
  });

  it('keeps the token and parameter values out of the stream and the file', async () => {
    const marker = `param-${randomUUID()}`;
    const { client, token } = await clientOf(a, 'audit-secret');
    await seedGraph(a, 'audit-secret', 'g');
    await mustCall(client, 'falkordb_query', { graphName: 'g', query, parameters: { marker } });
    const events = await streamEvents(stateKeys.tenantAudit('audit-secret'));
    assert.equal(events.length, 1);
    const file = JSON.stringify(await fileEvents());
    assert.ok(file.includes(sha256(query)), 'the call reached the file');
    for (const [where, text] of [['stream', await allStreamsText()], ['file', file]] as const) {
      assert.ok(!text.includes(token), `the token reached the ${where}`);
      assert.ok(!text.includes(marker), `a parameter value reached the ${where}`);
    }
  });

  it('adds the query text itself when AUDIT_QUERY_TEXT is true', async () => {
    const { client } = await clientOf(b, 'audit-text');
    await seedGraph(b, 'audit-text', 'g');
    await mustCall(client, 'falkordb_query', { graphName: 'g', query, parameters: { marker: 'x' } });
    const [event] = await streamEvents(stateKeys.tenantAudit('audit-text'));
    assert.equal(event?.['query'], query);
    assert.equal(event['querySha256'], sha256(query));
  });

  it('records a failing query as query_error with its code', async () => {
    const { client } = await clientOf(a, 'audit-fail');
    await seedGraph(a, 'audit-fail', 'g');
    const failed = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'RETURN foo(' });
    assert.equal(failed.ok, false);
    const [event] = await streamEvents(stateKeys.tenantAudit('audit-fail'));
    assert.equal(event?.['event'], 'query_error');
    assert.equal(event['errorCode'], failed.error?.code);
    assert.equal(event['errorCode'], 'QUERY_FAILED');
    assert.equal(event['rowCount'], undefined);
  });

  it('records tools without a query too, with the tool name and no hash', async () => {
    const { client } = await clientOf(a, 'audit-list');
    await mustCall(client, 'falkordb_list_graphs');
    const [event] = await streamEvents(stateKeys.tenantAudit('audit-list'));
    assert.equal(event?.['event'], 'query_success');
    assert.equal(event['tool'], 'falkordb_list_graphs');
    assert.equal(event['querySha256'], undefined);
  });

  it('files a tool call refused for a missing scope as denied, with the tool', async () => {
    const { client } = await clientOf(a, 'audit-scope', 'read');
    const refused = await callTool(client, 'falkordb_delete_graph', { graphName: 'g' });
    assert.equal(refused.error?.code, 'SCOPE_MISSING');
    const [event] = await streamEvents(stateKeys.tenantAudit('audit-scope'));
    assert.equal(event?.['event'], 'denied');
    assert.equal(event['tool'], 'falkordb_delete_graph');
    assert.equal(event['errorCode'], 'SCOPE_MISSING');
  });
});

describe('audit events of refused requests', () => {
  it('records a bad token as auth_failure without a tenant', async () => {
    const bad = await signTestToken('audit-forged', { secret: 'another-secret-that-is-at-least-32-bytes-long' });
    assert.equal((await probeMcp(a.url, bad)).status, 401);
    const failures = (await streamEvents(stateKeys.audit())).filter((e) => e['errorCode'] === 'TOKEN_SIGNATURE_INVALID');
    assert.equal(failures.length, 1);
    const [event] = failures;
    assert.equal(event?.['event'], 'auth_failure');
    assert.equal(event['tenant'], undefined, 'an unverified token names no tenant');
    assert.equal(event['path'], '/mcp');
    assert.match(event['clientIp'] ?? '', /127\.0\.0\.1/);
    assert.deepEqual(await streamEvents(stateKeys.tenantAudit('audit-forged')), []);
    assert.ok(!(await allStreamsText()).includes(bad), 'the bad token reached the stream');
  });

  it('records a token without the read scope as denied, for its tenant', async () => {
    const token = await signTestToken('audit-denied', { scope: 'profile' });
    assert.equal((await probeMcp(a.url, token)).status, 403);
    const [event] = await streamEvents(stateKeys.tenantAudit('audit-denied'));
    assert.equal(event?.['event'], 'denied');
    assert.equal(event['errorCode'], 'SCOPE_MISSING');
    assert.equal(event['jti'], String(decodeJwt(token).jti));
  });

  it('does not audit a request that is merely malformed', async () => {
    const token = await signTestToken('audit-malformed');
    const answer = await fetch(`${a.url}/mcp`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{not json' });
    assert.equal(answer.status, 400);
    assert.deepEqual(await streamEvents(stateKeys.tenantAudit('audit-malformed')), []);
  });
});

describe('audit tail', () => {
  it("prints the tenant's events from both instances, oldest first, with --json", async () => {
    const first = await clientOf(a, 'audit-both');
    const second = await clientOf(b, 'audit-both');
    await seedGraph(a, 'audit-both', 'one');
    await seedGraph(a, 'audit-both', 'two');
    await mustCall(first.client, 'falkordb_query', { graphName: 'one', query: 'RETURN 1' });
    await mustCall(second.client, 'falkordb_query', { graphName: 'two', query: 'RETURN 2' });
    await mustCall((await clientOf(a, 'audit-other')).client, 'falkordb_list_graphs');
    await Promise.all([a.state.audit.flush(), b.state.audit.flush()]);

    const done = await runCli(['audit', 'tail', '--tenant', 'audit-both', '--json'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    const events = done.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(events.map((e) => [e['jti'], e['graph']]), [[first.jti, 'one'], [second.jti, 'two']]);
    assert.ok(events.every((e) => e['tenant'] === 'audit-both'));
    assert.equal(events[1]?.['rowCount'], 1, 'numbers come back as numbers');
  });

  it('prints one line per event for people: time, event, tool, graph, outcome, ms and address', async () => {
    const { client } = await clientOf(a, 'audit-human');
    await seedGraph(a, 'audit-human', 'people');
    await mustCall(client, 'falkordb_query', { graphName: 'people', query: 'RETURN 1' });
    await a.state.audit.flush();
    const done = await runCli(['audit', 'tail', '--tenant', 'audit-human'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    const lines = done.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\S+Z\s+query_success\s+-\s+falkordb_query\s+people\s+ok\s+[\d.]+ms\s+\S*127\.0\.0\.1$/);
  });

  it('says so, and exits 0, for a tenant without events', async () => {
    const done = await runCli(['audit', 'tail', '--tenant', 'audit-nobody'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^Tenant "audit-nobody" has no audit events/);
  });

  it('names --since and exits 2 when it is not a duration', async () => {
    const done = await runCli(['audit', 'tail', '--tenant', 'audit-both', '--since', 'yesterday'], cliEnv);
    assert.equal(done.code, 2);
    assert.match(done.stderr, /--since: "yesterday" is not a duration/);
  });

  it('keeps printing new events with --follow, and exits 0 on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'audit', 'tail', '--tenant', 'audit-follow', '--follow', '--json'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...cliEnv },
    });
    const output = { stdout: '', stderr: '' };
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    /** Resolves once `stream` has printed text that passes `ready`, or the command has ended. */
    const printed = (stream: 'stdout' | 'stderr', ready: (text: string) => boolean) =>
      Promise.race([exited, new Promise<void>((resolve) => child[stream].on('data', (d: Buffer) => {
        output[stream] += d.toString();
        if (ready(output[stream])) resolve();
      }))]);

    await printed('stderr', (text) => text.includes('Following'));
    assert.match(output.stderr, /Following new audit events of tenant "audit-follow"/);
    const { client } = await clientOf(a, 'audit-follow');
    await seedGraph(a, 'audit-follow', 'late');
    await mustCall(client, 'falkordb_query', { graphName: 'late', query: 'RETURN 1' });
    await printed('stdout', (text) => text.includes('\n'));
    child.kill('SIGINT');
    const { stdout, stderr } = output;
    assert.equal(await exited, 0, stderr);
    const events = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(events.map((e) => [e['event'], e['graph']]), [['query_success', 'late']]);
  });
});

describe('the audit file', () => {
  it('is JSON lines, readable by its group only, and starts anew at the same path after a rename and reload', async () => {
    const { client } = await clientOf(a, 'audit-rotate');
    const call = async (graphName: string) => {
      await seedGraph(a, 'audit-rotate', graphName);
      return mustCall(client, 'falkordb_query', { graphName, query: 'RETURN 1' });
    };
    const graphsIn = async (file: string) => (await fileEvents(file)).filter((e) => e['tenant'] === 'audit-rotate').map((e) => e['graph']);

    await call('before-rotation');
    assert.deepEqual(await graphsIn(auditFile), ['before-rotation']);
    assert.equal((await stat(auditFile)).mode & 0o777, 0o640 & ~process.umask());

    const rotated = `${auditFile}.1`;
    await rename(auditFile, rotated);
    await call('while-rotating');
    await a.reload();
    await call('after-reload');

    assert.deepEqual(await graphsIn(rotated), ['before-rotation', 'while-rotating'], 'until the reload, events follow the moved file');
    assert.deepEqual(await graphsIn(auditFile), ['after-reload']);
  });
});

describe('AuditTrail with a failing sink', () => {
  it('never fails the caller, counts every failure, and reports it in the log at most once a minute', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const unreachable = { command: () => Promise.reject(new GatewayError('DATABASE_UNREACHABLE', 'down')) } as unknown as StateStore;
    const log = captureLog();
    const trail = new AuditTrail(unreachable, createLogger('info', log.stream), { queryText: false, logFile: undefined, streamMaxLen: 100 }, () => now);
    const principal = { tenant: 'audit-unit', subject: 'audit-unit', scopes: ['read'] as const, expiresAt: 0 };
    const call = { tool: 'falkordb_list_graphs', outcome: 'success' as const, durationMs: 1 };

    assert.equal(trail.toolCall(principal, undefined, call), undefined);
    await trail.flush();
    now += 30_000;
    trail.toolCall(principal, undefined, call);
    await trail.flush();
    const reports = () => log.text().split('\n').filter((line) => line.includes('could not be written to the stream sink'));
    assert.equal(reports().length, 1, 'a second failure within the minute is counted, not logged');

    now += 31_000;
    await trail.record({ event: 'token_revoked', tenant: 'audit-unit', actor: 'test' });
    assert.equal(reports().length, 2);
    assert.match(reports()[1]!, /"failures":2/, 'the report says how many failures it stands for');
    assert.deepEqual(trail.sinkFailures(), { log: 0, stream: 3 });
  });

  it('counts a file sink that cannot open its file, and keeps writing the others', async () => {
    const writes: string[][] = [];
    const store = { command: (args: string[]) => (writes.push(args), Promise.resolve('1-0')) } as unknown as StateStore;
    const logFile = path.join(await tempDir(), 'missing-folder', 'audit.log');
    const trail = new AuditTrail(store, createLogger('silent'), { queryText: false, logFile, streamMaxLen: 100 });
    await trail.record({ event: 'tenant_changed', tenant: 'audit-unit', actor: 'test', detail: 'disabled' });
    assert.deepEqual(trail.sinkFailures(), { log: 0, file: 1, stream: 0 });
    assert.equal(writes.length, 1);
    assert.deepEqual(writes[0]!.slice(0, 5), ['XADD', stateKeys.tenantAudit('audit-unit'), 'MAXLEN', '~', '100']);
    await trail.close();
  });
});
