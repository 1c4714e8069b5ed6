// connectDatabase against real servers: FalkorDB, a plain Valkey without the module, and nothing at all.

import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { freeLoopbackPort } from './support/ports.js';
import { findServerBinary } from '../src/falkordb/server-binary.js';
import { GatewayError } from '../src/errors.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { rejection } from './support/assertions.js';

const logger = testLogger();


async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('connectDatabase to an address where nothing listens', { timeout: 120_000 }, () => {
  it('fails with DATABASE_UNREACHABLE naming the address, within the bound', async () => {
    const started = Date.now();
    const error = await rejection(connectDatabase({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 1_000, logger }));
    assert.equal(error.code, 'DATABASE_UNREACHABLE');
    assert.match(error.message, /Cannot reach FalkorDB at redis:\/\/127\.0\.0\.1:1 after .*connection refused/);
    assert.match(error.message, /FALKORDB_URL/);
    assert.ok(Date.now() - started < 8_000, 'gave up long after connectTimeoutMs');
  });

  it('never shows the password of the URL it could not reach', async () => {
    const error = await rejection(connectDatabase({ url: 'redis://admin:s3cret-pw@127.0.0.1:1', connectTimeoutMs: 200, logger }));
    assert.doesNotMatch(error.message, /s3cret-pw/);
    assert.match(error.message, /redis:\/\/admin@127\.0\.0\.1:1/);
  });

  it('names a missing unix socket', async () => {
    const error = await rejection(connectDatabase({ url: '/nonexistent/falkordb.sock', password: 'x', connectTimeoutMs: 200, logger }));
    assert.equal(error.code, 'DATABASE_UNREACHABLE');
    assert.match(error.message, /\/nonexistent\/falkordb\.sock .*no socket file/);
  });
});

describe('connectDatabase to a server that is not Redis', { timeout: 120_000 }, () => {
  let http: Server;
  let silent: net.Server;

  before(async () => {
    http = createServer((_req, res) => res.end('hello')).listen(0, '127.0.0.1');
    silent = net.createServer((socket) => socket.resume()).listen(0, '127.0.0.1'); // reads, never answers
    await Promise.all([once(http, 'listening'), once(silent, 'listening')]);
  });

  after(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await new Promise((resolve) => silent.close(resolve));
  });

  it('refuses an HTTP server with DATABASE_NOT_FALKORDB instead of crashing', async () => {
    const { port } = http.address() as net.AddressInfo;
    const error = await rejection(connectDatabase({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 5_000, logger }));
    assert.equal(error.code, 'DATABASE_NOT_FALKORDB');
    assert.match(error.message, /does not speak the Redis protocol \(it answered "HTTP\/1\.1/);
  });

  it('gives up on a server that accepts but never answers, within the bound', async () => {
    const { port } = silent.address() as net.AddressInfo;
    const started = Date.now();
    const error = await rejection(connectDatabase({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 1_000, logger }));
    assert.equal(error.code, 'DATABASE_UNREACHABLE');
    assert.match(error.message, /PING got no answer/);
    assert.ok(Date.now() - started < 8_000, 'waited long after connectTimeoutMs');
  });
});

describe('connectDatabase to a server without the FalkorDB module', { timeout: 120_000 }, () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;

  before(async () => {
    const binary = await findServerBinary({ logger, allowInstall: false });
    dir = await mkdtemp(path.join(os.tmpdir(), 'plain-valkey-'));
    port = await freeLoopbackPort();
    server = spawn(binary.path, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  });

  after(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses it with DATABASE_NOT_FALKORDB and says to load falkordb.so', async () => {
    const error = await rejection(connectDatabase({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 10_000, logger }));
    assert.equal(error.code, 'DATABASE_NOT_FALKORDB');
    assert.match(error.message, new RegExp(`The server at redis://127\\.0\\.0\\.1:${port} answers but has no FalkorDB module`));
    assert.match(error.message, /falkordb\.so/);
  });
});

describe('connectDatabase to FalkorDB', { timeout: 120_000 }, () => {
  let falkor: TestFalkorDB;
  let db: Database;

  before(async () => {
    falkor = await startTestFalkorDB();
    db = await connectDatabase({ url: falkor.url, connectTimeoutMs: 5_000, logger });
  });

  after(async () => {
    await db?.close();
    await falkor?.cleanup();
  });

  it('reads the module version and shows the address without the password', () => {
    assert.match(db.moduleVersion, /^\d+\.\d+\.\d+$/);
    assert.equal(db.address, `redis://127.0.0.1:${falkor.port}`);
    assert.equal(db.isReady, true);
  });

  it('returns 64-bit integers exactly when asked for integers as strings', async () => {
    // compact reply: [header, rows, stats]; a cell is [type, value]
    const exact = (await db.sendCommand(['GRAPH.QUERY', 'numbers', 'RETURN 9007199254740993', '--compact'], { integersAsStrings: true })) as unknown[][][][];
    assert.equal(exact[1]?.[0]?.[0]?.[1], '9007199254740993');
    const lossy = (await db.sendCommand(['GRAPH.QUERY', 'numbers', 'RETURN 9007199254740993', '--compact'])) as unknown[][][][];
    assert.equal(lossy[1]?.[0]?.[0]?.[1], 9007199254740992);
  });

  it('rejects with the server\'s own message on an error reply', async () => {
    await assert.rejects(db.sendCommand(['GRAPH.QUERY', 'g', 'RETURN nope(']), (error: Error) => !(error instanceof GatewayError) && /errMsg: Invalid input/.test(error.message));
  });

  it('answers ping with the milliseconds taken: a finite number above 0 and below the timeout', async () => {
    const ms = await db.ping(2_000);
    assert.ok(Number.isFinite(ms) && ms > 0 && ms < 2_000, `ping took ${ms} ms`);
  });

  it('measures the round trip: a ping the server holds back takes at least as long as it was held', async () => {
    const PAUSE_MS = 1_500;
    const admin = await connectDatabase({ url: falkor.url, connectTimeoutMs: 5_000, logger });
    try {
      const sent = performance.now();
      // The server pauses every client from some moment after `sent` on, for PAUSE_MS.
      await admin.sendCommand(['CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL']);
      const pingStarted = performance.now();
      const ms = await db.ping(10_000);
      const heldAtLeast = PAUSE_MS - (pingStarted - sent);
      assert.ok(heldAtLeast > 0, `the ping was sent ${pingStarted - sent} ms after the pause, after it could have ended`);
      assert.ok(Number.isFinite(ms) && ms >= heldAtLeast && ms < 10_000, `ping took ${ms} ms while held for at least ${heldAtLeast} ms`);
    } finally {
      await admin.sendCommand(['CLIENT', 'UNPAUSE']);
      await admin.close();
    }
  });

  it('accepts the password as an option when the URL has none', async () => {
    const other = await connectDatabase({ url: `redis://127.0.0.1:${falkor.port}`, password: falkor.password, connectTimeoutMs: 2_000, logger });
    try {
      assert.equal(await other.sendCommand(['PING']), 'PONG');
    } finally {
      await other.close();
    }
  });

  it('refuses a wrong password at once, saying authentication failed, without showing it', async () => {
    const started = Date.now();
    const error = await rejection(connectDatabase({ url: `redis://:not-the-password@127.0.0.1:${falkor.port}`, connectTimeoutMs: 30_000, logger }));
    assert.equal(error.code, 'DATABASE_UNREACHABLE');
    assert.match(error.message, /authentication failed/);
    assert.doesNotMatch(error.message, /not-the-password/);
    assert.ok(Date.now() - started < 10_000, 'kept retrying an authentication error');
  });

  it('says a password is required when none is given', async () => {
    const error = await rejection(connectDatabase({ url: `redis://127.0.0.1:${falkor.port}`, connectTimeoutMs: 30_000, logger }));
    assert.match(error.message, /authentication failed: the server requires a password and none was given/);
  });

  it('can be closed twice, and then refuses commands with DATABASE_UNREACHABLE', async () => {
    const other = await connectDatabase({ url: falkor.url, connectTimeoutMs: 2_000, logger });
    await other.close();
    await other.close();
    assert.equal(other.isReady, false);
    const error = await rejection(other.sendCommand(['PING']));
    assert.equal(error.code, 'DATABASE_UNREACHABLE');
  });
});

describe('a Database handle across a server restart', { timeout: 120_000 }, () => {
  let falkor: TestFalkorDB;
  let db: Database;

  before(async () => {
    falkor = await startTestFalkorDB();
    db = await connectDatabase({ url: falkor.url, connectTimeoutMs: 5_000, logger });
    await db.sendCommand(['GRAPH.QUERY', 'kept', 'CREATE (:Thing {name: "before restart"})']);
  });

  after(async () => {
    await db?.close();
    await falkor?.cleanup();
  });

  it('reports down while the server is stopped, failing fast, then works again on the same handle', async () => {
    await falkor.stop();
    await until(() => !db.isReady, 5_000, 'isReady to turn false');

    const pingStarted = Date.now();
    await assert.rejects(db.ping(1_000), (error: unknown) => error instanceof GatewayError && error.code === 'DATABASE_UNREACHABLE');
    assert.ok(Date.now() - pingStarted < 5_000, 'ping did not respect its deadline');
    const commandStarted = Date.now();
    await assert.rejects(db.sendCommand(['PING']), (error: unknown) => error instanceof GatewayError && error.code === 'DATABASE_UNREACHABLE');
    assert.ok(Date.now() - commandStarted < 5_000, 'a command hung while disconnected');

    await falkor.restart();
    await until(() => db.isReady, 15_000, 'isReady to turn true after the restart');
    const ms = await db.ping(2_000);
    assert.ok(Number.isFinite(ms) && ms > 0 && ms < 2_000, `ping took ${ms} ms`);
    const reply = (await db.sendCommand(['GRAPH.QUERY', 'kept', 'MATCH (t:Thing) RETURN t.name', '--compact'])) as unknown[][][];
    assert.deepEqual(reply[1]?.[0]?.[0], [2, 'before restart']);
  });

  it('keeps retrying at start until a server appears within connectTimeoutMs', async () => {
    await falkor.stop();
    const connecting = connectDatabase({ url: falkor.url, connectTimeoutMs: 30_000, logger });
    await sleep(500);
    await falkor.restart();
    const late = await connecting;
    try {
      assert.equal(await late.sendCommand(['PING']), 'PONG');
    } finally {
      await late.close();
    }
  });
});

/**
 * A TCP proxy in front of a server that, once told to hold, accepts new connections
 * but passes nothing through until released: a connection that stays "being opened".
 */
async function holdingProxy(targetPort: number): Promise<{ port: number; hold(): void; held(count: number): Promise<void>; release(): void; close(): Promise<void> }> {
  let holding = false;
  let waiting: Array<() => void> = [];
  const heldChanged = new EventEmitter();
  const sockets = new Set<net.Socket>();
  const pipe = (client: net.Socket) => {
    const upstream = net.createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(upstream);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    if (!holding) return pipe(client);
    client.pause();
    waiting.push(() => pipe(client));
    heldChanged.emit('held');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    hold: () => {
      holding = true;
    },
    held: async (count) => {
      while (waiting.length < count) await once(heldChanged, 'held');
    },
    release: () => {
      holding = false;
      const released = waiting;
      waiting = [];
      for (const start of released) start();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('closing a Database while its query pool opens a connection', { timeout: 120_000 }, () => {
  let falkor: TestFalkorDB;

  before(async () => {
    falkor = await startTestFalkorDB();
  });

  after(async () => {
    await falkor?.cleanup();
  });

  it('lets no rejection escape (the pool connect that close() cut short)', async () => {
    const escaped: unknown[] = [];
    const record = (reason: unknown) => escaped.push(reason);
    process.on('unhandledRejection', record);
    const proxy = await holdingProxy(falkor.port!);
    try {
      const db = await connectDatabase({ url: `redis://:${falkor.password}@127.0.0.1:${proxy.port}`, connectTimeoutMs: 5_000, logger });
      await db.sendCommand(['GRAPH.QUERY', 'pool_g', 'CREATE ()']);
      proxy.hold();
      // Two queries at once: the second finds the pool's one connection busy, so the pool
      // opens another, which the proxy holds; both queries are answered on the first.
      const query = () => db.sendCommand(['GRAPH.RO_QUERY', 'pool_g', 'MATCH (n) RETURN count(n)']);
      await Promise.all([query(), query()]);
      await proxy.held(1);
      const closed = db.close();
      proxy.release();
      await closed;
      // A rejection nobody handles is reported after the microtasks of the tick it happened in.
      await sleep(200);
    } finally {
      process.off('unhandledRejection', record);
      await proxy.close();
    }
    assert.deepEqual(escaped.map(String), []);
  });
});
