// Graceful shutdown of the real command: SIGTERM while queries are in flight.
// Every call either completes or is refused cleanly, every acknowledged write
// is in the database afterwards, and the process exits 0. And shutdown always
// ends: with the database gone or not answering, streams and half-sent requests
// open, a log nobody reads, or a second signal.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { connectDatabase } from '../src/falkordb/connection.js';
import { readEmbeddedState } from '../src/falkordb/launcher.js';
import { freeLoopbackPort } from './support/ports.js';
import { runCliJson } from './support/cli.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { CLI_ENTRY, REPO_ROOT, callTool, connectClient } from './support/mcp.js';
import { TEST_SECRET, signTestToken } from './support/tokens.js';

let db: TestFalkorDB;

before(async () => {
  db = await startTestFalkorDB();
});

after(async () => {
  await db?.cleanup();
});

/** A write that takes a few hundred milliseconds: long enough to be caught in flight. */
const SLOW_WRITE = 'CREATE (:Ack {id: $id}) WITH 1 AS one UNWIND range(1, 3000000) AS x WITH x WHERE x < 0 RETURN count(x) AS n';

interface Call {
  id: number;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  failure?: string;
}

describe('graceful shutdown', () => {
  it('finishes in-flight calls on SIGTERM, refuses new ones cleanly, loses no acknowledged write and exits 0', async () => {
    const port = await freeLoopbackPort();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'serve'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', FALKORDB_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, PORT: String(port), LOG_LEVEL: 'warn', METRICS_PORT: 'off', SHUTDOWN_TIMEOUT_MS: '30000', QUERY_TIMEOUT_MS: '60000', RATE_LIMIT_PER_MINUTE: '0' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const baseUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      const ready = await fetch(`${baseUrl}/readyz`).catch(() => undefined);
      if (ready?.status === 200) break;
      await sleep(100);
    }

    const token = await signTestToken('shutdown');
    const calls: Call[] = [];
    let nextId = 0;
    let signalledAt = Number.POSITIVE_INFINITY;
    // Each worker writes one node per call, back to back, until a call is refused.
    const worker = async () => {
      const client = await connectClient('http', baseUrl, token);
      for (;;) {
        const id = nextId++;
        const startedAt = Date.now();
        try {
          const outcome = await callTool(client, 'falkordb_query', { graphName: 'acks', query: SLOW_WRITE, parameters: { id } });
          calls.push({ id, startedAt, endedAt: Date.now(), ok: outcome.ok, ...(outcome.ok ? {} : { failure: outcome.text }) });
          if (!outcome.ok) break;
        } catch (error) {
          calls.push({ id, startedAt, endedAt: Date.now(), ok: false, failure: String(error) });
          break;
        }
      }
      await client.close().catch(() => undefined);
    };
    const workers = [worker(), worker(), worker(), worker()];
    while (calls.filter((c) => c.ok).length < 4) await sleep(50);
    signalledAt = Date.now();
    child.kill('SIGTERM');
    await Promise.all(workers);
    assert.equal(await exited, 0, stderr);

    // Calls caught in flight by the signal were finished, not cut off.
    const finishedInFlight = calls.filter((c) => c.ok && c.startedAt < signalledAt && c.endedAt > signalledAt);
    assert.ok(finishedInFlight.length > 0, `no call was in flight at SIGTERM: ${JSON.stringify(calls)}`);
    // Every refusal was a clean one: a closed connection or a 503, never a tool error from a half-done call.
    for (const call of calls.filter((c) => !c.ok)) {
      assert.ok(call.endedAt >= signalledAt, `call ${call.id} failed before the signal: ${call.failure}`);
      assert.match(call.failure ?? '', /fetch failed|ECONNREFUSED|ECONNRESET|socket|503|shutting down|other side closed|terminated/i, call.failure);
    }
    // Every acknowledged write is in the database.
    const direct = await connectDatabase({ url: db.url, connectTimeoutMs: 5000, logger: testLogger() });
    try {
      const reply = await direct.sendCommand(['GRAPH.RO_QUERY', 'shutdown_acks', 'MATCH (a:Ack) RETURN a.id ORDER BY a.id']);
      const stored = new Set((((reply as unknown[])[1] ?? []) as unknown[][]).map((row) => Number(row[0])));
      for (const call of calls.filter((c) => c.ok)) assert.ok(stored.has(call.id), `acknowledged write ${call.id} is missing`);
    } finally {
      await direct.close();
    }
  });
});

/** A generous bound: SHUTDOWN_TIMEOUT_MS (2 s here) plus the margin, with room for a loaded machine. */
const EXIT_BOUND_MS = 30_000;

interface Serve {
  child: ChildProcess;
  url: string;
  /** What the process wrote (its log on stdout, unless stdout is left unread). */
  output(): string;
  exited: Promise<number | null>;
}

/** `serve` as a child process on `env`, ready (/readyz 200) when this resolves. */
async function startServe(env: Record<string, string>, options: { readStdout?: boolean } = {}): Promise<Serve> {
  const port = await freeLoopbackPort();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'serve'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'info', METRICS_PORT: 'off', RATE_LIMIT_PER_MINUTE: '0', ...env },
  });
  let output = '';
  // Unread, stdout fills up and then takes no more: a log pipe nobody reads.
  if (options.readStdout ?? true) child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600 && child.exitCode === null; i++) {
    const ready = await fetch(`${url}/readyz`).catch(() => undefined);
    if (ready?.status === 200) return { child, url, output: () => output, exited };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not get ready: ${output}`);
}

/** The exit code, once the process exits within EXIT_BOUND_MS; else it is killed and the test fails. */
async function exitCodeWithin(serve: Serve, what: string): Promise<number | null> {
  const bound = new AbortController();
  const outcome = await Promise.race([
    serve.exited.then((code) => ({ code })),
    sleep(EXIT_BOUND_MS, 'still running' as const, { signal: bound.signal }).catch(() => 'still running' as const),
  ]);
  bound.abort();
  if (outcome === 'still running') {
    serve.child.kill('SIGKILL');
    await serve.exited;
    assert.fail(`serve was still running ${EXIT_BOUND_MS / 1000} s after ${what}: ${serve.output().slice(-2000)}`);
  }
  return outcome.code;
}

/** Resolves once the process has written a line matching `pattern`. */
async function outputMatches(serve: Serve, pattern: RegExp): Promise<void> {
  while (!pattern.test(serve.output())) {
    if (serve.child.exitCode !== null) assert.fail(`serve exited before writing ${pattern}: ${serve.output()}`);
    await sleep(50);
  }
}

/** Resolves once nothing accepts TCP connections at `url` any more. */
async function stopsListening(url: string): Promise<void> {
  const { port } = new URL(url);
  for (const started = Date.now(); Date.now() - started < EXIT_BOUND_MS; await sleep(20)) {
    const socket = net.connect(Number(port), '127.0.0.1');
    // once() rejects on 'error': a refused connection.
    const accepted = await once(socket, 'connect').then(() => true, () => false);
    socket.destroy();
    if (!accepted) return;
  }
  assert.fail(`${url} still took connections ${EXIT_BOUND_MS / 1000} s after SIGTERM`);
}

/** A raw connection that sends `request` and records whether anything came back and when it closed. */
async function rawConnection(url: string, request: string): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  socket.write(request);
  return { socket, received: () => received, closed };
}

/** The pid of the FalkorDB server behind a test database, to freeze it with SIGSTOP. */
function serverPid(database: TestFalkorDB): number {
  const state = readEmbeddedState(database.dataDir);
  assert.ok(state !== undefined, 'the test database records no server pid');
  return state.serverPid;
}

describe('shutdown that always ends', { timeout: 180_000 }, () => {
  it('exits within SHUTDOWN_TIMEOUT_MS plus a margin with a half-sent request, an SSE stream, a keep-alive connection and a call in flight, the database stopped', async () => {
    const own = await startTestFalkorDB();
    try {
      const serve = await startServe({ FALKORDB_URL: own.url, AUTH_JWT_SECRET: TEST_SECRET, SHUTDOWN_TIMEOUT_MS: '2000', QUERY_TIMEOUT_MS: '60000' });
      const token = await signTestToken('lifecycle');
      const host = new URL(serve.url).host;
      const sse = await rawConnection(serve.url, `GET /sse HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`);
      while (!sse.received().includes('event: endpoint')) await sleep(20);
      const keepAlive = await rawConnection(serve.url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
      while (!keepAlive.received().includes('\r\n\r\n')) await sleep(20);
      assert.match(keepAlive.received(), /^HTTP\/1\.1 200 /);
      const halfSent = await rawConnection(
        serve.url,
        `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 4096\r\n\r\n{"jsonrpc":"2.0",`,
      );
      const caller = await connectClient('http', serve.url, token);
      const inFlight = callTool(caller, 'falkordb_query', { graphName: 'slow', query: 'UNWIND range(1, 10000000) AS x WITH x WHERE x < 0 RETURN count(x) AS n' }).catch((e: unknown) => String(e));
      // A call that completes shows the gateway has read the requests sent before it.
      assert.equal((await callTool(caller, 'falkordb_list_graphs')).ok, true);
      await own.stop();
      assert.equal(halfSent.received(), '', 'the half-sent request was answered before the signal');

      serve.child.kill('SIGTERM');
      assert.equal(await exitCodeWithin(serve, 'SIGTERM'), 0, serve.output());
      // The stream, the idle keep-alive connection and the half-sent request were all closed by the gateway.
      await Promise.all([sse.closed, keepAlive.closed, halfSent.closed]);
      await inFlight;
      await caller.close().catch(() => undefined);
    } finally {
      await own.cleanup();
    }
  });

  it('exits at once, with status 1, on a second SIGTERM while calls are still being waited for', async () => {
    const serve = await startServe({ FALKORDB_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, SHUTDOWN_TIMEOUT_MS: '600000' });
    const token = await signTestToken('second-signal');
    // A body that never ends keeps a request in flight: the first SIGTERM would wait SHUTDOWN_TIMEOUT_MS (10 min) for it.
    const halfSent = await rawConnection(serve.url, `POST /mcp HTTP/1.1\r\nHost: ${new URL(serve.url).host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{`);
    assert.equal((await fetch(`${serve.url}/readyz`)).status, 200);
    serve.child.kill('SIGTERM');
    await outputMatches(serve, /"msg":"stopping"/);
    // The drain has begun once the listener stops taking connections (earlier steps, like the announcement's removal, may take a while).
    await stopsListening(serve.url);
    serve.child.kill('SIGTERM');
    assert.equal(await exitCodeWithin(serve, 'the second SIGTERM'), 1, serve.output());
    assert.match(serve.output(), /"pending":\["in-flight calls \(1\)"\].*"msg":"second signal while stopping; exiting now"/);
    halfSent.socket.destroy();
  });

  it('exits on SIGTERM when nobody reads its log (stdout a full pipe)', async () => {
    const serve = await startServe({ FALKORDB_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, SHUTDOWN_TIMEOUT_MS: '2000' }, { readStdout: false });
    // Each request writes an access-log line of over 8 KB: far more than a pipe holds.
    const padding = 'x'.repeat(8000);
    for (let i = 0; i < 200; i++) await (await fetch(`${serve.url}/healthz?pad=${padding}`)).text();
    serve.child.kill('SIGTERM');
    assert.equal(await exitCodeWithin(serve, 'SIGTERM'), 0, serve.output());
  });

  it('exits, naming what it left behind, on SIGTERM while the database does not answer and a refresh and audit writes are pending', async () => {
    const own = await startTestFalkorDB();
    const pid = serverPid(own);
    try {
      const keyFile = await writeSigningKey(await tempDir());
      const env = { FALKORDB_URL: own.url, AUTH_SIGNING_KEY_FILE: keyFile };
      const serve = await startServe({ ...env, SHUTDOWN_TIMEOUT_MS: '2000' });
      const issued = await runCliJson<{ refresh_token: string }>(['token', 'issue', '--tenant', 'frozen', '--device', 'laptop', '--json'], env);
      // The server stops answering, its connections stay open: every command now waits for a reply that never comes.
      process.kill(pid, 'SIGSTOP');
      const refresh = fetch(`${serve.url}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: issued.refresh_token }),
      }).catch((e: unknown) => String(e));
      // A refused token is answered without the database; its audit event is left to write.
      assert.equal((await fetch(`${serve.url}/mcp`, { method: 'POST', headers: { Authorization: 'Bearer not-a-token' } })).status, 401);
      serve.child.kill('SIGTERM');
      assert.equal(await exitCodeWithin(serve, 'SIGTERM'), 1, serve.output());
      assert.match(serve.output(), /"pending":\[[^\]]*"audit flush"[^\]]*\],"msg":"stopped without finishing every shutdown step; exiting"/);
      await refresh;
    } finally {
      process.kill(pid, 'SIGCONT');
      await own.cleanup();
    }
  });

  it('lets a process that closed its database while queries met a stopped server exit on its own, without an error', async () => {
    const own = await startTestFalkorDB();
    try {
      const script = path.join(await tempDir(), 'close-while-reconnecting.mts');
      const connection = pathToFileURL(path.join(REPO_ROOT, 'src', 'falkordb', 'connection.ts')).href;
      const logger = pathToFileURL(path.join(REPO_ROOT, 'src', 'logger.ts')).href;
      await writeFile(
        script,
        `import { connectDatabase } from ${JSON.stringify(connection)};\n` +
          `import { createLogger } from ${JSON.stringify(logger)};\n` +
          `const db = await connectDatabase({ url: ${JSON.stringify(own.url)}, connectTimeoutMs: 5000, logger: createLogger('silent') });\n` +
          "process.stdout.write('connected\\n');\n" +
          "await new Promise((resolve) => process.stdin.once('data', resolve));\n" +
          // More queries than idle connections: the pool opens new ones, which cannot connect.
          "await Promise.allSettled(Array.from({ length: 5 }, () => db.sendCommand(['GRAPH.QUERY', 'g', 'RETURN 1'])));\n" +
          'await db.close();\n' +
          "process.stdout.write('closed\\n');\n",
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const serve: Serve = { child, url: '', output: () => output, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
      await outputMatches(serve, /connected/);
      await own.stop();
      child.stdin.end('go\n');
      // Closed, the process has nothing left to do: it ends by itself, and no timer throws afterwards.
      assert.equal(await exitCodeWithin(serve, 'closing its database'), 0, output);
      assert.match(output, /closed/);
    } finally {
      await own.cleanup();
    }
  });
});
