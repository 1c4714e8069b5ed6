// Finding the server binary, with PATH, OS, uid and the installer injected: nothing is ever installed here.

import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { createLogger } from '../logger.js';
import {
  findServerBinary,
  isSupportedServerVersion,
  locateFalkorDBModule,
  parseOsRelease,
  parseServerVersion,
  type FindServerBinaryOptions,
} from './server-binary.js';

const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n';
const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n';

let root: string;
let dirCount = 0;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'server-binary-test-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = path.join(root, `d${dirCount++}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A stand-in server binary that only answers --version. */
async function fakeServer(dir: string, name: string, version: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\necho "Valkey server v=${version} sha=00000000:0 malloc=libc bits=64"\n`);
  await chmod(file, 0o755);
  return file;
}

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('debug', stream), lines };
}

async function missing(options: FindServerBinaryOptions): Promise<GatewayError> {
  try {
    await findServerBinary(options);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'SERVER_BINARY_MISSING');
    return error;
  }
  assert.fail('expected SERVER_BINARY_MISSING');
}

describe('server version parsing', () => {
  it('reads the version Valkey and Redis print', () => {
    assert.equal(parseServerVersion('Valkey server v=8.0.1 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=39f7'), '8.0.1');
    assert.equal(parseServerVersion('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=c4b'), '7.0.15');
    assert.equal(parseServerVersion('something else'), undefined);
  });

  it('accepts 7.2 and later only', () => {
    assert.equal(isSupportedServerVersion('7.0.15'), false);
    assert.equal(isSupportedServerVersion('6.2.14'), false);
    assert.equal(isSupportedServerVersion('7.2.0'), true);
    assert.equal(isSupportedServerVersion('8.0.1'), true);
    assert.equal(isSupportedServerVersion('10.0.0'), true);
  });

  it('reads /etc/os-release', () => {
    assert.deepEqual(parseOsRelease(UBUNTU), { id: 'ubuntu', idLike: ['debian'], versionCodename: 'noble' });
    assert.deepEqual(parseOsRelease(FEDORA), { id: 'fedora', idLike: [], versionCodename: undefined });
  });
});

describe('findServerBinary', () => {
  const base = { bundledServerPath: null, platform: 'linux' as const, uid: 0 };

  it('uses FALKORDB_SERVER_BIN when it is usable', async () => {
    const bin = await fakeServer(await freshDir(), 'my-server', '7.2.4');
    const found = await findServerBinary({ ...base, configuredBin: bin, logger: createLogger('silent'), pathEnv: '' });
    assert.deepEqual(found, { path: bin, version: '7.2.4', source: 'FALKORDB_SERVER_BIN' });
  });

  it('names FALKORDB_SERVER_BIN when it does not exist', async () => {
    const error = await missing({ ...base, configuredBin: '/nonexistent/valkey-server', logger: createLogger('silent') });
    assert.match(error.message, /^FALKORDB_SERVER_BIN=\/nonexistent\/valkey-server cannot be used \(no such file\)/);
  });

  it('names FALKORDB_SERVER_BIN when it is older than 7.2', async () => {
    const bin = await fakeServer(await freshDir(), 'old-server', '7.0.15');
    const error = await missing({ ...base, configuredBin: bin, logger: createLogger('silent') });
    assert.match(error.message, /FALKORDB_SERVER_BIN=.* is version 7\.0\.15, but FalkorDB needs Redis or Valkey 7\.2 or later/);
  });

  it('prefers a bundled server that runs', async () => {
    const bundled = await fakeServer(await freshDir(), 'redis-server', '8.2.3');
    const onPath = await freshDir();
    await fakeServer(onPath, 'valkey-server', '8.0.1');
    const found = await findServerBinary({ ...base, bundledServerPath: bundled, pathEnv: onPath, logger: createLogger('silent') });
    assert.equal(found.source, 'bundled');
    assert.equal(found.path, bundled);
  });

  it('skips a server on PATH that is too old and takes a newer one', async () => {
    const first = await freshDir();
    const second = await freshDir();
    await fakeServer(first, 'redis-server', '7.0.15');
    await fakeServer(second, 'redis-server', '7.2.5');
    const found = await findServerBinary({ ...base, pathEnv: [first, second].join(path.delimiter), logger: createLogger('silent') });
    assert.deepEqual(found, { path: path.join(second, 'redis-server'), version: '7.2.5', source: 'PATH' });
  });

  it('stops with the Docker command on a machine it cannot install on, installing nothing', async () => {
    const calls: string[] = [];
    const error = await missing({
      ...base,
      pathEnv: await freshDir(),
      readOsRelease: () => FEDORA,
      logger: createLogger('silent'),
      runCommand: async (command, args) => {
        calls.push([command, ...args].join(' '));
      },
    });
    assert.match(error.message, /docker run -p 6379:6379 falkordb\/falkordb/);
    assert.match(error.message, /FALKORDB_URL=redis:\/\/127\.0\.0\.1:6379/);
    assert.match(error.message, /FALKORDB_SERVER_BIN/);
    assert.deepEqual(calls, []);
  });

  it('gives brew and Docker on macOS', async () => {
    const error = await missing({ ...base, platform: 'darwin', pathEnv: await freshDir(), logger: createLogger('silent') });
    assert.match(error.message, /brew install valkey/);
    assert.match(error.message, /docker run -p 6379:6379 falkordb\/falkordb/);
  });

  it('gives the apt commands on Debian when installing is turned off', async () => {
    const calls: string[] = [];
    const error = await missing({
      ...base,
      allowInstall: false,
      pathEnv: await freshDir(),
      readOsRelease: () => DEBIAN,
      logger: createLogger('silent'),
      runCommand: async (command, args) => {
        calls.push([command, ...args].join(' '));
      },
    });
    assert.match(error.message, /installing one is turned off/);
    assert.match(error.message, /sudo apt-get install -y -t bookworm-backports valkey-server/);
    assert.match(error.message, /deb http:\/\/deb\.debian\.org\/debian bookworm-backports main/);
    assert.deepEqual(calls, []);
  });

  it('does not try to install when not root', async () => {
    const error = await missing({ ...base, uid: 1000, pathEnv: await freshDir(), readOsRelease: () => DEBIAN, logger: createLogger('silent') });
    assert.match(error.message, /not running as root/);
  });

  it('on Debian as root, adds bookworm-backports and installs valkey-server from it, saying so first', async () => {
    const pathDir = await freshDir();
    const aptDir = await freshDir();
    await writeFile(path.join(aptDir, 'sources.list'), 'deb http://deb.debian.org/debian bookworm main\n# deb http://deb.debian.org/debian bookworm-backports main\n');
    const { logger, lines } = capturingLogger();
    const calls: string[] = [];
    const found = await findServerBinary({
      ...base,
      pathEnv: pathDir,
      readOsRelease: () => DEBIAN,
      aptDir,
      logger,
      runCommand: async (command, args) => {
        calls.push([command, ...args].join(' '));
        assert.ok(lines.some((line) => /installing valkey-server now/.test(line)), 'installed before saying so');
        if (args.includes('install')) await fakeServer(pathDir, 'valkey-server', '8.0.1');
      },
    });
    assert.deepEqual(calls, ['apt-get update', 'apt-get install -y -t bookworm-backports valkey-server']);
    const sources = await readFile(path.join(aptDir, 'sources.list.d', 'falkordb-mcp-gateway-backports.sources'), 'utf8');
    assert.match(sources, /^Suites: bookworm-backports$/m);
    assert.deepEqual(found, { path: path.join(pathDir, 'valkey-server'), version: '8.0.1', source: 'installed' });
  });

  it('does not add the backports suite when apt already has it', async () => {
    const pathDir = await freshDir();
    const aptDir = await freshDir();
    await mkdir(path.join(aptDir, 'sources.list.d'));
    await writeFile(path.join(aptDir, 'sources.list.d', 'debian.sources'), 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-backports\nComponents: main\n');
    await findServerBinary({
      ...base,
      pathEnv: pathDir,
      readOsRelease: () => DEBIAN,
      aptDir,
      logger: createLogger('silent'),
      runCommand: async (_command, args) => {
        if (args.includes('install')) await fakeServer(pathDir, 'valkey-server', '8.0.1');
      },
    });
    assert.equal(existsSync(path.join(aptDir, 'sources.list.d', 'falkordb-mcp-gateway-backports.sources')), false);
  });

  it('on Ubuntu installs plainly, and refuses a server that is still too old afterwards', async () => {
    const pathDir = await freshDir();
    const calls: string[] = [];
    const error = await missing({
      ...base,
      pathEnv: pathDir,
      readOsRelease: () => UBUNTU,
      aptDir: await freshDir(),
      logger: createLogger('silent'),
      runCommand: async (command, args) => {
        calls.push([command, ...args].join(' '));
        if (args.includes('install')) await fakeServer(pathDir, 'valkey-server', '7.0.0');
      },
    });
    assert.deepEqual(calls, ['apt-get update', 'apt-get install -y valkey-server']);
    assert.match(error.message, /no server of version 7\.2 or later is on PATH afterwards/);
    assert.match(error.message, /sudo apt-get update && sudo apt-get install -y valkey-server/);
  });

  it('reports a failed installation with the commands to run by hand', async () => {
    const error = await missing({
      ...base,
      pathEnv: await freshDir(),
      readOsRelease: () => DEBIAN,
      aptDir: await freshDir(),
      logger: createLogger('silent'),
      runCommand: async () => {
        throw new Error('apt-get update exited with 100');
      },
    });
    assert.match(error.message, /Installing valkey-server failed \(apt-get update exited with 100\)/);
    assert.match(error.message, /apt-get install -y -t bookworm-backports valkey-server/);
  });
});

describe('locateFalkorDBModule', () => {
  it('finds falkordb.so in the optional package', () => {
    const modulePath = locateFalkorDBModule();
    assert.equal(path.basename(modulePath), 'falkordb.so');
    assert.ok(existsSync(modulePath));
  });

  it('says to use FALKORDB_URL when the optional package is not installed', () => {
    assert.throws(
      () => locateFalkorDBModule(() => { throw new Error('Cannot find module'); }),
      (error: unknown) => error instanceof GatewayError && error.code === 'SERVER_BINARY_MISSING' && /@falkordblite\/linux-x64.*not installed/.test(error.message) && /FALKORDB_URL=/.test(error.message),
    );
  });
});
