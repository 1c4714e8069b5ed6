// The embedded FalkorDB launcher against a real server: sockets, settings, persistence, ownership, failures.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { readEmbeddedState, startEmbeddedFalkorDB, type EmbeddedFalkorDB, type StartEmbeddedOptions } from '../src/falkordb/launcher.js';
import { testLogger } from './support/falkordb.js';
import { rejection } from './support/assertions.js';
import { runCli } from './support/cli.js';

const logger = testLogger();
const running: EmbeddedFalkorDB[] = [];
let root: string;

async function start(dataDir: string, extra: Partial<StartEmbeddedOptions> = {}): Promise<EmbeddedFalkorDB> {
  const server = await startEmbeddedFalkorDB({ dataDir, logger, allowInstall: false, ...extra });
  running.push(server);
  return server;
}

async function connect(server: EmbeddedFalkorDB): Promise<Database> {
  return connectDatabase({ url: server.url, password: server.password, connectTimeoutMs: 5_000, logger });
}

async function withDatabase<T>(server: EmbeddedFalkorDB, use: (db: Database) => Promise<T>): Promise<T> {
  const db = await connect(server);
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


/**
 * Runs a gateway-like process that starts an embedded server on `dataDir` and never calls stop().
 * With stayAlive it waits for its stdin to close and then calls process.exit(0); otherwise it just ends.
 */
async function startGatewayProcess(dataDir: string, options: { stayAlive: boolean }): Promise<{ pid: number; serverPid: number; exit(): Promise<number | null> }> {
  const launcher = fileURLToPath(new URL('../src/falkordb/launcher.ts', import.meta.url));
  const loggerModule = fileURLToPath(new URL('../src/logger.ts', import.meta.url));
  const script = path.join(root, `gateway-${path.basename(dataDir)}.mts`);
  await writeFile(
    script,
    `import { startEmbeddedFalkorDB } from ${JSON.stringify(launcher)};\n` +
      `import { createLogger } from ${JSON.stringify(loggerModule)};\n` +
      `const server = await startEmbeddedFalkorDB({ dataDir: ${JSON.stringify(dataDir)}, logger: createLogger('silent'), allowInstall: false });\n` +
      'console.log(server.pid);\n' +
      (options.stayAlive ? "process.stdin.resume();\nprocess.stdin.on('end', () => process.exit(0));\n" : ''),
  );
  const projectRoot = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: projectRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  while (!output.includes('\n')) {
    if (child.exitCode !== null) break;
    await sleep(20);
  }
  const serverPid = Number(output.trim());
  assert.ok(serverPid > 0, `the gateway process printed no server pid: ${output}`);
  return {
    pid: child.pid ?? 0,
    serverPid,
    exit: async () => {
      child.stdin.end();
      return exited;
    },
  };
}

/** Processes whose working folder or command line names `dataDir` (an embedded server runs in its data dir). */
function processesUsing(dataDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cwd === dataDir || cwd.startsWith(dataDir + path.sep) || cmdline.includes(dataDir)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Whether host:port can be bound right now. */
async function bindable(port: number): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'launcher-test-'));
});

after(async () => {
  await Promise.all(running.map((server) => server.stop()));
  await rm(root, { recursive: true, force: true });
});

describe('startEmbeddedFalkorDB', { timeout: 120_000 }, () => {
  it('serves queries on a private unix socket in the data dir by default', async () => {
    const dataDir = path.join(root, 'unix');
    const server = await start(dataDir);
    assert.equal(server.url, path.join(dataDir, 'falkordb.sock'));
    assert.equal((await stat(server.url)).mode & 0o777, 0o700);
    await withDatabase(server, async (db) => {
      assert.equal(db.moduleVersion, server.moduleVersion);
      const reply = (await db.sendCommand(['GRAPH.QUERY', 'g', 'RETURN 1 + 1', '--compact'])) as unknown[][][];
      assert.deepEqual(reply[1]?.[0]?.[0], [3, 2]);
    });
  });

  it('listens on loopback only, with a password, persistence and its own empty import folder', async () => {
    const dataDir = path.join(root, 'tcp');
    const server = await start(dataDir, { tcpPort: 0 });
    assert.match(server.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.password, /^[0-9a-f]{32,}$/);
    await withDatabase(server, async (db) => {
      const config = async (name: string): Promise<string> => ((await db.sendCommand(['CONFIG', 'GET', name])) as string[])[1] ?? '';
      assert.equal(await config('bind'), '127.0.0.1');
      assert.equal(await config('protected-mode'), 'yes');
      assert.equal(await config('appendonly'), 'yes');
      assert.notEqual(await config('save'), '');
      assert.equal(await config('dir'), dataDir);
      const importFolder = ((await db.sendCommand(['GRAPH.CONFIG', 'GET', 'IMPORT_FOLDER'])) as string[])[1] ?? '';
      assert.equal(path.resolve(importFolder), path.join(dataDir, 'import'));
      assert.deepEqual(await readdir(importFolder), []);
    });
    const log = await readFile(path.join(dataDir, 'falkordb.log'), 'utf8');
    assert.match(log, /Module 'graph' loaded/);
    assert.doesNotMatch(log, new RegExp(server.password));
  });

  it('records url, password and pids in embedded.json (mode 0600) while running, and removes it on stop', async () => {
    const dataDir = path.join(root, 'state');
    const server = await start(dataDir);
    const statePath = path.join(dataDir, 'embedded.json');
    assert.equal((await stat(statePath)).mode & 0o777, 0o600);
    assert.deepEqual(readEmbeddedState(dataDir), { url: server.url, password: server.password, serverPid: server.pid, ownerPid: process.pid });
    await server.stop();
    await server.stop();
    assert.equal(alive(server.pid), false);
    await assert.rejects(stat(statePath), { code: 'ENOENT' });
    assert.equal(readEmbeddedState(dataDir), undefined);
  });

  it('keeps a graph written before stop when started again on the same data dir', async () => {
    const dataDir = path.join(root, 'persist');
    const first = await start(dataDir);
    await withDatabase(first, (db) => db.sendCommand(['GRAPH.QUERY', 'kept', 'CREATE (:Person {name: "Ada"})']));
    await first.stop();
    const second = await start(dataDir);
    const reply = await withDatabase(second, (db) => db.sendCommand(['GRAPH.QUERY', 'kept', 'MATCH (p:Person) RETURN p.name', '--compact']));
    assert.deepEqual((reply as unknown[][][])[1], [[[2, 'Ada']]]);
  });

  it('refuses a second start on a data dir that is in use, saying by whom', async () => {
    const dataDir = path.join(root, 'busy');
    const first = await start(dataDir);
    const error = await rejection(start(dataDir));
    assert.equal(error.code, 'DATA_DIR_UNUSABLE');
    assert.equal(error.message, `FALKORDB_DATA_DIR ${dataDir} is in use by an embedded FalkorDB this process (pid ${process.pid}) already started; stop it or choose another FALKORDB_DATA_DIR.`);
    // the refused start must not have disturbed the running server
    await withDatabase(first, async (db) => assert.equal(await db.sendCommand(['PING']), 'PONG'));
    assert.equal(readEmbeddedState(dataDir)?.serverPid, first.pid);
  });

  it('shuts down a server whose gateway died, keeping its data, then starts', async () => {
    const dataDir = path.join(root, 'orphan');
    const orphan = await start(dataDir);
    await withDatabase(orphan, (db) => db.sendCommand(['GRAPH.QUERY', 'left', 'CREATE (:Note {text: "saved"})']));
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    const statePath = path.join(dataDir, 'embedded.json');
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    await writeFile(statePath, JSON.stringify({ ...state, ownerPid: gone.pid }));

    const next = await start(dataDir);
    assert.notEqual(next.pid, orphan.pid);
    assert.equal(alive(orphan.pid), false);
    const reply = await withDatabase(next, (db) => db.sendCommand(['GRAPH.QUERY', 'left', 'MATCH (n:Note) RETURN n.text', '--compact']));
    assert.deepEqual((reply as unknown[][][])[1], [[[2, 'saved']]]);
    // the old handle's stop must leave the new server's record alone
    await orphan.stop();
    assert.equal(readEmbeddedState(dataDir)?.serverPid, next.pid);
  });

  it('starts over a stale embedded.json whose gateway and server are both gone', async () => {
    const dataDir = path.join(root, 'stale');
    await mkdir(dataDir);
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    await writeFile(path.join(dataDir, 'embedded.json'), JSON.stringify({ url: '/nowhere.sock', password: 'old', serverPid: gone.pid, ownerPid: gone.pid }));
    const server = await start(dataDir);
    assert.equal(readEmbeddedState(dataDir)?.serverPid, server.pid);
  });

  it('moves the socket to the temp folder when the data dir path is too long for one', async () => {
    const dataDir = path.join(root, 'a-rather-long-folder-name-'.repeat(3), 'and-another-long-folder-name-'.repeat(2));
    const server = await start(dataDir);
    assert.equal(path.dirname(server.url), os.tmpdir());
    assert.ok(Buffer.byteLength(server.url) <= 100);
    await withDatabase(server, async (db) => assert.equal(await db.sendCommand(['PING']), 'PONG'));
  });

  it('refuses a data dir that cannot be created, naming FALKORDB_DATA_DIR and the path', async () => {
    const file = path.join(root, 'afile');
    await writeFile(file, 'not a folder');
    const dataDir = path.join(file, 'sub');
    const error = await rejection(start(dataDir));
    assert.equal(error.code, 'DATA_DIR_UNUSABLE');
    assert.match(error.message, new RegExp(`^FALKORDB_DATA_DIR ${dataDir} cannot be created or written \\(a part of that path is a file, not a folder\\)`));
  });

  it('quotes the last lines of the server log when the server exits during start-up', async () => {
    const fake = path.join(root, 'failing-server');
    await writeFile(fake, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Valkey server v=8.0.1 sha=0"; exit 0; fi\necho "FATAL: simulated start-up failure"\nexit 3\n');
    await chmod(fake, 0o755);
    const dataDir = path.join(root, 'early-exit');
    const error = await rejection(start(dataDir, { serverBin: fake }));
    assert.match(error.message, /exited during start-up \(exit code 3\)/);
    assert.match(error.message, /FATAL: simulated start-up failure/);
    assert.equal(readEmbeddedState(dataDir), undefined);
    await assert.rejects(stat(path.join(dataDir, 'embedded.json')), { code: 'ENOENT' });
  });

  it('reports PORT_IN_USE when its TCP port is taken', async () => {
    const blocker = net.createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as net.AddressInfo;
      const error = await rejection(start(path.join(root, 'port-taken'), { tcpPort: port }));
      assert.equal(error.code, 'PORT_IN_USE');
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}: another process uses that port`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('refuses a data dir that another gateway process runs, naming its pid', async () => {
    const dataDir = path.join(root, 'other-gateway');
    const gateway = await startGatewayProcess(dataDir, { stayAlive: true });
    try {
      const error = await rejection(start(dataDir));
      assert.equal(error.code, 'DATA_DIR_UNUSABLE');
      assert.equal(error.message, `FALKORDB_DATA_DIR ${dataDir} is in use by another gateway (pid ${gateway.pid}); stop it or choose another FALKORDB_DATA_DIR.`);
    } finally {
      await gateway.exit();
    }
  });

  for (const how of ['calls process.exit()', 'runs out of work'] as const) {
    it(`does not leave the server running when the gateway process ${how} without stop()`, async () => {
      const dataDir = path.join(root, `exit-hook-${how.split(' ')[0]}`);
      const gateway = await startGatewayProcess(dataDir, { stayAlive: how === 'calls process.exit()' });
      assert.equal(await gateway.exit(), 0);
      const deadline = Date.now() + 20_000;
      while (alive(gateway.serverPid) && Date.now() < deadline) await sleep(50);
      assert.equal(alive(gateway.serverPid), false, 'the server outlived its gateway');
      await assert.rejects(stat(path.join(dataDir, 'embedded.json')), { code: 'ENOENT' });
    });
  }
});

describe('serve with a taken port and an embedded database', { timeout: 120_000 }, () => {
  for (const variable of ['PORT', 'METRICS_PORT'] as const) {
    it(`fails with PORT_IN_USE for a taken ${variable} before starting the database, and suggests a port that is free`, async () => {
      const blocker = net.createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
      await once(blocker, 'listening');
      const dataDir = path.join(root, `serve-${variable.toLowerCase()}-taken`);
      try {
        const { port } = blocker.address() as net.AddressInfo;
        // The other listener on a port of its own, so only `variable` is taken.
        const other: Record<string, string> = variable === 'PORT' ? { METRICS_PORT: 'off' } : { PORT: '0' };
        const done = await runCli(['serve'], { FALKORDB_DATA_DIR: dataDir, HOST: '127.0.0.1', METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...other, [variable]: String(port) });
        assert.equal(done.code, 1, done.stderr);
        assert.match(done.stderr, new RegExp(`${variable} ${port} on 127\\.0\\.0\\.1 is already in use by another program( \\(another gateway on this machine\\?\\))?\\. Stop it, or set ${variable} to a free port \\(e\\.g\\. ${variable}=\\d+, free just now\\)`));
        const suggested = Number(new RegExp(`${variable}=(\\d+), free just now`).exec(done.stderr)?.[1]);
        assert.notEqual(suggested, port);
        assert.ok(await bindable(suggested), `the suggested ${variable} ${suggested} is not free`);
        // The database was never started: its data dir was not even created, and no process runs in it.
        assert.equal(existsSync(dataDir), false, `the embedded database was started in ${dataDir}`);
        assert.deepEqual(processesUsing(dataDir), []);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });
  }
});
