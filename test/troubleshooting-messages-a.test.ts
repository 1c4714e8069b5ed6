// Every example message docs/troubleshooting.md gives for the start-up,
// authentication and authorisation codes is one the code really produces:
// start-up failures through the functions that build them (configuration,
// database connection, launcher, listeners, the command line), refusals
// through a real gateway over real HTTP and MCP on a real FalkorDB.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http, { createServer, type Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { decodeJwt } from 'jose';
import { loadConfig } from '../src/config/index.js';
import { connectCluster } from '../src/falkordb/cluster.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import { startEmbeddedFalkorDB } from '../src/falkordb/launcher.js';
import { freeLoopbackPort } from './support/ports.js';
import { findServerBinary } from '../src/falkordb/server-binary.js';
import type { RunningGateway } from '../src/main.js';
import { tenantUserName } from '../src/falkordb/acl-users.js';
import { runCli } from './support/cli.js';
import { writeSigningKey } from './support/keys.js';
import { documentedMessages, TROUBLESHOOTING_CODES_A } from './support/docs.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { openRawSse, STATE_CACHE_EXPIRY_MS } from './support/http.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { identityProviderToken, signTestToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from './support/tokens.js';

const COVERED = TROUBLESHOOTING_CODES_A;

type Code = (typeof COVERED)[number];

/**
 * Times, tries, ports and pids differ from run to run: every number reads N. A
 * message of several lines is compared as the docs' example is read (see
 * documentedMessages): its line breaks and their indentation as one space.
 */
const normalise = (text: string): string => text.replace(/\s*\n\s*/g, ' ').replace(/\d+(?:\.\d+)?/g, 'N');

const checked = new Set<string>();

/** `message`, produced with `code`, must be one of the examples of that code's section. */
function assertDocumented(code: Code, produced: { code?: string | undefined; message: string }): void {
  assert.equal(produced.code, code, produced.message);
  const examples = documentedMessages(code);
  assert.ok(examples.length > 0, `docs/troubleshooting.md gives no example message for ${code}`);
  assert.ok(examples.map(normalise).includes(normalise(produced.message)), `${code}: "${produced.message}" is not among the documented examples:\n${examples.join('\n')}`);
  checked.add(code);
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  assert.fail('expected a rejection');
}

/** A token the gateway can read but would never issue: its header and claims as given, no signature. */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

interface Refusal {
  status: number;
  code?: string;
  message: string;
}

/** POSTs an MCP initialize over a connection of its own and returns the gateway's error. */
function post(baseUrl: string, options: { authorization?: string; host?: string; origin?: string; localAddress?: string; path?: string } = {}): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    if (options.authorization !== undefined) headers.Authorization = options.authorization;
    if (options.host !== undefined) headers.Host = options.host;
    if (options.origin !== undefined) headers.Origin = options.origin;
    const req = http.request(`${baseUrl}${options.path ?? '/mcp'}`, { method: 'POST', headers, agent: false, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        try {
          const body = JSON.parse(text) as { code: string; message: string };
          resolve({ status: res.statusCode ?? 0, code: body.code, message: body.message });
        } catch {
          resolve({ status: res.statusCode ?? 0, message: text });
        }
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1.0.0' } } }));
  });
}

const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

let db: TestFalkorDB;
let gateway: RunningGateway;
let root: string;
const clients: Client[] = [];
const ACL_ENV = { TENANT_ISOLATION: 'acl', ACL_USER_SECRET: 'acl-user-secret-for-the-messages-test' };

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'troubleshooting-a-'));
  db = await startTestFalkorDB();
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await db?.cleanup();
  await rm(root, { recursive: true, force: true });
});

describe('start-up and configuration messages', { timeout: 120_000 }, () => {
  it('CONFIG_INVALID', async () => {
    const secretFile = path.join(root, 'secret');
    await writeFile(secretFile, 'a-secret-in-a-file-that-is-at-least-32-bytes');
    for (const env of [
      { FALKORDB_URL: db.url, PORT: '80a' },
      { FALKORDB_URL: db.url, AUTH_JWT_SECRET: 'a-secret-that-is-at-least-32-bytes-long', AUTH_JWT_SECRET_FILE: secretFile },
      { FALKORDB_URL: db.url, HOST: '0.0.0.0' },
    ]) {
      let error: (Error & { code?: string }) | undefined;
      try {
        loadConfig(env);
      } catch (e) {
        error = e as Error & { code?: string };
      }
      assert.ok(error, JSON.stringify(env));
      assertDocumented('CONFIG_INVALID', error);
    }
    const done = await runCli(['token', 'issue', '--tenant', 'acme'], { FALKORDB_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET });
    assert.equal(done.code, 2, `a configuration error exits 2: ${done.stderr}`);
    // The command prints the message alone: being one of the code's documented examples is what identifies it.
    assertDocumented('CONFIG_INVALID', { code: 'CONFIG_INVALID', message: done.stderr.trim().replace(/^falkordb-mcp-gateway: /, '') });
  });

  it('DATABASE_UNREACHABLE', async () => {
    const port = await freeLoopbackPort();
    assertDocumented('DATABASE_UNREACHABLE', await rejection(connectDatabase({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500, logger: testLogger() })));
    assertDocumented('DATABASE_UNREACHABLE', await rejection(connectDatabase({ url: `redis://:wrong-password@127.0.0.1:${db.port}`, connectTimeoutMs: 500, logger: testLogger() })));
  });

  it('DATABASE_NOT_FALKORDB', async () => {
    const server: Server = createServer((_req, res) => res.end('hello')).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as net.AddressInfo;
      assertDocumented('DATABASE_NOT_FALKORDB', await rejection(connectDatabase({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 5_000, logger: testLogger() })));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // A Valkey server without the module (connectDatabase retries until it answers).
    const binary = await findServerBinary({ logger: testLogger(), allowInstall: false });
    const port = await freeLoopbackPort();
    const plain = spawn(binary.path, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root], { stdio: 'ignore' });
    try {
      assertDocumented('DATABASE_NOT_FALKORDB', await rejection(connectDatabase({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 20_000, logger: testLogger() })));
    } finally {
      if (plain.exitCode === null) {
        plain.kill('SIGTERM');
        await once(plain, 'exit');
      }
    }
  });

  it('DATABASE_CLUSTER_INVALID', async () => {
    assertDocumented('DATABASE_CLUSTER_INVALID', await rejection(connectCluster({ urls: [db.url], connectTimeoutMs: 5_000, logger: testLogger() })));
  });

  it('DATABASE_LIMITS_MISSING', async () => {
    // Before any gateway has set the limits on this database.
    const error = await rejection(startTestGateway(db.url, { DATABASE_LIMITS: 'check' }));
    assertDocumented('DATABASE_LIMITS_MISSING', error);
    const admin = await connectDatabase({ url: db.url, connectTimeoutMs: 5_000, logger: testLogger() });
    try {
      await admin.sendCommand(['ACL', 'SETUSER', 'gateway', 'on', '>gateway-pw', '~*', '&*', '+@all', '-graph.config']);
    } finally {
      await admin.close();
    }
    assertDocumented('DATABASE_LIMITS_MISSING', await rejection(startTestGateway(`redis://gateway:gateway-pw@127.0.0.1:${db.port}`)));
    // FalkorDB's default: one query thread per CPU, fewer than the default per-tenant cap.
    const few = await startTestFalkorDB({ threads: 2 });
    try {
      assertDocumented('DATABASE_LIMITS_MISSING', await rejection(startTestGateway(few.url)));
    } finally {
      await few.cleanup();
    }
  });

  it('DATABASE_PERMISSION_MISSING', async () => {
    const admin = await connectDatabase({ url: db.url, connectTimeoutMs: 5_000, logger: testLogger() });
    try {
      await admin.sendCommand(['ACL', 'SETUSER', 'gateway', 'on', '>gateway-pw', '~*', '&*', '+@all', '-acl|deluser']);
    } finally {
      await admin.close();
    }
    assertDocumented('DATABASE_PERMISSION_MISSING', await rejection(startTestGateway(`redis://gateway:gateway-pw@127.0.0.1:${db.port}`, ACL_ENV)));
  });

  it('SERVER_BINARY_MISSING', async () => {
    const fake = path.join(root, 'redis-server');
    await writeFile(fake, '#!/bin/sh\necho "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=0"\n');
    await chmod(fake, 0o755);
    const error = await rejection(findServerBinary({ configuredBin: fake, logger: testLogger(), allowInstall: false }));
    assertDocumented('SERVER_BINARY_MISSING', { code: error.code, message: error.message.replaceAll(root, '/usr/bin') });
  });

  it('DATA_DIR_UNUSABLE', async () => {
    const file = path.join(root, 'gw');
    await writeFile(file, 'not a folder');
    const error = await rejection(startEmbeddedFalkorDB({ dataDir: path.join(file, 'data'), logger: testLogger(), allowInstall: false }));
    assertDocumented('DATA_DIR_UNUSABLE', { code: error.code, message: error.message.replaceAll(root, '/srv') });
  });

  it('PORT_IN_USE', async () => {
    const blocker = net.createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as net.AddressInfo;
      assertDocumented('PORT_IN_USE', await rejection(startTestGateway(db.url, { PORT: String(port) })));
      assertDocumented('PORT_IN_USE', await rejection(startTestGateway(db.url, { METRICS_PORT: String(port) })));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('refusals of a running gateway', { timeout: 120_000 }, () => {
  /** The gateway's own key and trust settings, which `token issue` needs as well. */
  let authEnv: Record<string, string>;

  before(async () => {
    const jwksPort = await freeLoopbackPort();
    authEnv = {
      ...ACL_ENV,
      AUTH_JWT_SECRET: TEST_SECRET,
      AUTH_SIGNING_KEY_FILE: await writeSigningKey(root),
      AUTH_JWKS_URL: `http://127.0.0.1:${jwksPort}/jwks.json`,
      TENANTS_REQUIRE_REGISTRATION: 'true',
    };
    gateway = await startTestGateway(db.url, { ...authEnv, AUTH_ALLOW_QUERY_TOKEN: 'false', AUTH_FAILURES_PER_MINUTE: '40' });
    const { tenants } = gateway.state;
    for (const id of ['globex', 'other']) await tenants.add({ id });
    await tenants.add({ id: 'initech', graphRules: { write: ['sales_*'] } });
  });

  /** POSTs a ping to a legacy SSE session with `token`; returns the gateway's error. */
  async function postToSession(endpoint: string, token: string): Promise<{ code: string; message: string }> {
    const response = await fetch(new URL(endpoint, gateway.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    return (await response.json()) as { code: string; message: string };
  }

  const refused = async (code: Code, options: Parameters<typeof post>[1]) => assertDocumented(code, await post(gateway.url, options));

  it('GATEWAY_MISMATCH', async () => {
    const done = await runCli(['token', 'issue', '--tenant', 'globex', '--device', 'laptop'], { FALKORDB_URL: db.url, FALKORDB_DATA_DIR: path.join(root, 'data'), ...ACL_ENV });
    assert.equal(done.code, 1, done.stderr);
    // The command prints the message alone, no code: being one of this section's examples is what identifies it.
    const message = done.stderr.trim().replace(/^falkordb-mcp-gateway: /, '').replaceAll(root, '/srv/gw');
    assertDocumented('GATEWAY_MISMATCH', { code: 'GATEWAY_MISMATCH', message });
  });

  it('TOKEN_MISSING', () => refused('TOKEN_MISSING', {}));
  it('TOKEN_MALFORMED', async () => {
    await refused('TOKEN_MALFORMED', { authorization: 'Basic abc' });
    await refused('TOKEN_MALFORMED', bearer('not-a-token'));
  });
  it('TOKEN_SIGNATURE_INVALID', async () => refused('TOKEN_SIGNATURE_INVALID', bearer(await signTestToken('globex', { secret: 'another-secret-for-hs256-at-least-32-bytes' }))));
  it('TOKEN_ALGORITHM_REFUSED', async () => {
    await refused('TOKEN_ALGORITHM_REFUSED', bearer(unsignedToken({ sub: 'acme', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 3600 })));
  });
  it('TOKEN_KEY_UNKNOWN and TOKEN_ALGORITHM_REFUSED where only AUTH_JWT_SECRET is set', async () => {
    // The gateway above also has a key set URL: a gateway of its own.
    const secretOnly = await startTestGateway(db.url);
    try {
      const { SignJWT } = await import('jose');
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const withoutKid = await new SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'RS256' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject('globex').setIssuedAt().setExpirationTime('1h').sign(privateKey);
      const kidless = await post(secretOnly.url, bearer(withoutKid));
      assertDocumented('TOKEN_KEY_UNKNOWN', kidless);
      assert.doesNotMatch(kidless.message, /the token's "kid"/, 'a token without a "kid" is not told about its "kid"');
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unknownAlg = `${part({ alg: 'HS1024', typ: 'JWT' })}.${part({ sub: 'globex', exp: Math.floor(Date.now() / 1000) + 3600 })}.c2lnbmF0dXJl`;
      assertDocumented('TOKEN_ALGORITHM_REFUSED', await post(secretOnly.url, bearer(unknownAlg)));
      assertDocumented('TOKEN_KEY_UNKNOWN', await post(secretOnly.url, bearer(await identityProviderToken('globex'))));
    } finally {
      await secretOnly.stop();
    }
  });
  it('TOKEN_EXPIRED', async () => {
    const expired = await signTestToken('globex', { expiresInSec: -3600 });
    await refused('TOKEN_EXPIRED', bearer(expired));
    const opening = await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${expired}` } });
    assertDocumented('TOKEN_EXPIRED', (await opening.json()) as { code: string; message: string });
    const sse = await openRawSse(gateway.url, await signTestToken('globex'));
    try {
      assertDocumented('TOKEN_EXPIRED', await postToSession(sse.endpoint, expired));
    } finally {
      sse.close();
    }
  });
  it('TOKEN_NOT_YET_VALID', async () => {
    await refused('TOKEN_NOT_YET_VALID', bearer(await signTestToken('globex', { notBeforeSec: 3600 })));
    const { SignJWT } = await import('jose');
    const now = Math.floor(Date.now() / 1000);
    const future = await new SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject('globex').setIssuedAt(now + 3600).setExpirationTime(now + 7200).sign(new TextEncoder().encode(TEST_SECRET));
    await refused('TOKEN_NOT_YET_VALID', bearer(future));
  });
  it('TOKEN_ISSUER_INVALID', async () => refused('TOKEN_ISSUER_INVALID', bearer(await signTestToken('globex', { issuer: 'someone-else' }))));
  it('TOKEN_AUDIENCE_INVALID', async () => refused('TOKEN_AUDIENCE_INVALID', bearer(await signTestToken('globex', { audience: 'someone-else' }))));
  it('TOKEN_CLAIM_INVALID', async () => {
    await refused('TOKEN_CLAIM_INVALID', bearer(await signTestToken('globex', { claims: { graphs: 42 } })));
    await refused('TOKEN_CLAIM_INVALID', bearer(await signTestToken('globex', { claims: { nbf: 'soon' } })));
    const { SignJWT } = await import('jose');
    const endless = await new SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject('globex').setIssuedAt().sign(new TextEncoder().encode(TEST_SECRET));
    await refused('TOKEN_CLAIM_INVALID', bearer(endless));
  });
  it('TOKEN_TENANT_MISSING', async () => refused('TOKEN_TENANT_MISSING', bearer(await signTestToken('globex', { omitSub: true }))));
  it('TOKEN_KEY_UNKNOWN', async () => {
    const { SignJWT } = await import('jose');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await new SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'RS256', kid: 'idp-key' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setSubject('globex').setIssuedAt().setExpirationTime('1h').sign(privateKey);
    await refused('TOKEN_KEY_UNKNOWN', bearer(token));
  });
  it('TOKEN_REVOKED', async () => {
    const token = await signTestToken('globex');
    const { jti, exp } = decodeJwt(token);
    await gateway.state.ledger.revokeJti(jti!, exp);
    await sleep(STATE_CACHE_EXPIRY_MS);
    await refused('TOKEN_REVOKED', bearer(token));
    const laptop = await signTestToken('globex', { claims: { device: 'alice-laptop' } });
    await gateway.state.ledger.revokeDevice('globex', 'alice-laptop');
    await sleep(STATE_CACHE_EXPIRY_MS);
    await refused('TOKEN_REVOKED', bearer(laptop));
  });
  it('QUERY_TOKEN_DISABLED', async () => refused('QUERY_TOKEN_DISABLED', { path: `/mcp?token=${await signTestToken('globex')}` }));
  // The docs' tenant "acme" goes from unknown to registered on other addresses to disabled.
  /** `token issue` for `tenant` with this gateway's environment; returns what it printed, as a refusal of `code`. */
  async function issueFor(tenant: string, code: Code): Promise<{ code: string; message: string }> {
    const done = await runCli(['token', 'issue', '--tenant', tenant], { FALKORDB_URL: db.url, ...authEnv });
    assert.equal(done.code, 1, done.stderr);
    return { code, message: done.stderr.trim().replace(/^falkordb-mcp-gateway: /, '') };
  }

  it('TENANT_NOT_REGISTERED', async () => {
    await refused('TENANT_NOT_REGISTERED', bearer(await signTestToken('acme')));
    assertDocumented('TENANT_NOT_REGISTERED', await issueFor('acme', 'TENANT_NOT_REGISTERED'));
  });
  it('IP_FORBIDDEN', async () => {
    await gateway.state.tenants.add({ id: 'acme', allowIps: ['192.0.2.0/24'] });
    await sleep(STATE_CACHE_EXPIRY_MS);
    await refused('IP_FORBIDDEN', bearer(await signTestToken('acme')));
    // ALLOWED_IPS refuses this address for every tenant: a gateway of its own.
    const walled = await startTestGateway(db.url, { ALLOWED_IPS: '192.0.2.0/24' });
    try {
      assertDocumented('IP_FORBIDDEN', await post(walled.url, bearer(await signTestToken('globex'))));
    } finally {
      await walled.stop();
    }
  });
  it('TENANT_DISABLED', async () => {
    await gateway.state.tenants.setEnabled('acme', false);
    await sleep(STATE_CACHE_EXPIRY_MS);
    await refused('TENANT_DISABLED', bearer(await signTestToken('acme')));
    assertDocumented('TENANT_DISABLED', await issueFor('acme', 'TENANT_DISABLED'));
  });
  it('ORIGIN_FORBIDDEN', async () => refused('ORIGIN_FORBIDDEN', { ...bearer(await signTestToken('globex')), origin: 'http://localhost:6274' }));
  it('HOST_FORBIDDEN', async () => refused('HOST_FORBIDDEN', { ...bearer(await signTestToken('globex')), host: 'gw.example.test' }));
  it('SCOPE_MISSING', async () => {
    await refused('SCOPE_MISSING', bearer(await signTestToken('globex', { scope: '' })));
    const reader = await connectClient('http', gateway.url, await signTestToken('globex', { scope: 'read' }));
    clients.push(reader);
    const outcome = await callTool(reader, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    assert.ok(outcome.error, outcome.text);
    assertDocumented('SCOPE_MISSING', outcome.error);
    const writer = await connectClient('http', gateway.url, await signTestToken('globex', { scope: 'read write' }));
    clients.push(writer);
    const deletion = await callTool(writer, 'falkordb_delete_graph', { graphName: 'g' });
    assert.ok(deletion.error, deletion.text);
    assertDocumented('SCOPE_MISSING', deletion.error);
  });
  it('GRAPH_FORBIDDEN', async () => {
    const narrowed = await connectClient('http', gateway.url, await signTestToken('globex', { claims: { graphs: ['reports_*'] } }));
    clients.push(narrowed);
    const outcome = await callTool(narrowed, 'falkordb_query', { graphName: 'sales', query: 'MATCH (n) RETURN n' });
    assert.ok(outcome.error, outcome.text);
    assertDocumented('GRAPH_FORBIDDEN', outcome.error);
    const ruled = await connectClient('http', gateway.url, await signTestToken('initech'));
    clients.push(ruled);
    const write = await callTool(ruled, 'falkordb_query', { graphName: 'reports', query: 'CREATE (:N)' });
    assert.ok(write.error, write.text);
    assertDocumented('GRAPH_FORBIDDEN', write.error);
  });
  it('SESSION_FORBIDDEN', async () => {
    const sse = await openRawSse(gateway.url, await signTestToken('globex'));
    try {
      assertDocumented('SESSION_FORBIDDEN', await postToSession(sse.endpoint, await signTestToken('other')));
      assertDocumented('SESSION_FORBIDDEN', await postToSession(sse.endpoint, await signTestToken('globex', { claims: { device: 'another-laptop' } })));
      assertDocumented('SESSION_FORBIDDEN', await postToSession(sse.endpoint, await signTestToken('globex', { scope: 'read' })));
      assertDocumented('SESSION_FORBIDDEN', await postToSession(sse.endpoint, await signTestToken('globex', { claims: { graphs: ['reports_*'] } })));
    } finally {
      sse.close();
    }
  });
  it('DATABASE_ACCESS_DENIED', async () => {
    const client = await connectClient('http', gateway.url, await signTestToken('globex'));
    clients.push(client);
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    // The tenant's database user changed by hand: its keys taken away.
    await gateway.database.db.sendCommand(['ACL', 'SETUSER', tenantUserName('globex'), 'resetkeys', '~nothing-of-globex:*']);
    const outcome = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS c' });
    assert.ok(outcome.error, outcome.text);
    assertDocumented('DATABASE_ACCESS_DENIED', outcome.error);
  });
  // Last of the refusals: this address is refused for every token from here on.
  it('AUTH_FAILURES_LIMITED', async () => {
    let last: Refusal | undefined;
    for (let i = 0; i < 60 && last?.status !== 429; i++) last = await post(gateway.url, { ...bearer('not-a-token'), localAddress: '127.0.0.7' });
    assert.ok(last);
    assertDocumented('AUTH_FAILURES_LIMITED', last);
  });
});

describe('coverage', () => {
  it('produces every code of the list, and only those', () => {
    assert.deepEqual([...checked].sort(), [...COVERED].sort(), 'every covered code was produced and checked above');
  });
});
