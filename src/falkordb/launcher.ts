// Starts and stops the embedded FalkorDB: a Redis/Valkey server with falkordb.so, private to
// one data folder (loopback or unix socket, random password, persistence on), owned by this process.
//
// One file over 300 lines: finding the server and module, writing its config, starting,
// waiting and stopping share one child process and its data folder.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { connectDatabase } from './connection.js';
import { moduleArguments, type DatabaseLimit } from './db-limits.js';
import { findServerBinary, locateFalkorDBModule } from './server-binary.js';

export interface EmbeddedFalkorDB {
  /** A unix socket path, or `redis://127.0.0.1:PORT`; never carries the password. */
  url: string;
  password: string;
  moduleVersion: string;
  pid: number;
  stop(): Promise<void>;
}

/** What `<dataDir>/embedded.json` records while a gateway runs the server. */
export interface EmbeddedState {
  url: string;
  password: string;
  serverPid: number;
  ownerPid: number;
}

export interface StartEmbeddedOptions {
  dataDir: string;
  /** FALKORDB_SERVER_BIN; found automatically when unset. */
  serverBin?: string | undefined;
  logger: Logger;
  /** Listen on 127.0.0.1:tcpPort (0: a free port) instead of a unix socket. */
  tcpPort?: number | undefined;
  /** May a missing server be installed with apt? Default true. */
  allowInstall?: boolean;
  /** Reuse a password (so clients keep working across a restart); default: a new random one. */
  password?: string;
  /** How long to wait for the server to answer PING; default 60 s. */
  startTimeoutMs?: number;
  /** FalkorDB settings to start with (see db-limits.ts); default: the module's own. */
  limits?: readonly DatabaseLimit[];
}

const STATE_FILE = 'embedded.json';
const CONFIG_FILE = 'falkordb.conf';
const LOG_FILE = 'falkordb.log';
const IMPORT_DIR = 'import';
const SNAPSHOT_FILE = 'dump.rdb';
const APPEND_ONLY_DIR = 'appendonlydir';
// sun_path holds 108 bytes on Linux, 104 on macOS; stay clear of both.
const MAX_SOCKET_PATH_BYTES = 100;
const STOP_TIMEOUT_MS = 60_000;

/** Where the unix socket of the embedded server for `dataDir` lives. */
export function embeddedSocketPath(dataDir: string): string {
  const inside = path.join(dataDir, 'falkordb.sock');
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH_BYTES) return inside;
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `falkordb-${hash}.sock`);
}

/** Whether `dataDir` holds a saved embedded database (the snapshot or the append-only files serverConfig names). */
export function embeddedDataExists(dataDir: string): boolean {
  return existsSync(path.join(dataDir, SNAPSHOT_FILE)) || existsSync(path.join(dataDir, APPEND_ONLY_DIR));
}

/** The state of the embedded server running for `dataDir`, if any (for CLI commands that reuse it). */
export function readEmbeddedState(dataDir: string): EmbeddedState | undefined {
  const state = readStateFile(path.resolve(dataDir));
  return state !== undefined && state.url !== '' && pidAlive(state.serverPid) ? state : undefined;
}

/** The raw record, including a claim whose server is not started yet (serverPid 0). */
function readStateFile(dataDir: string): EmbeddedState | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<EmbeddedState>;
    if (typeof value.url === 'string' && typeof value.password === 'string' && Number.isInteger(value.serverPid) && Number.isInteger(value.ownerPid)) {
      return value as EmbeddedState;
    }
  } catch {
    // fall through: a torn or foreign file counts as no state
  }
  return undefined;
}

/** Binds and releases 127.0.0.1:port, returning the port; rejects with EADDRINUSE when taken. */
async function bindLoopback(port: number): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

async function claimPort(port: number): Promise<number> {
  try {
    return await bindLoopback(port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
    throw new GatewayError('PORT_IN_USE', `The embedded FalkorDB cannot listen on 127.0.0.1:${port}: ${code === 'EACCES' ? 'permission denied' : 'another process uses that port'}. Choose another port, or stop that process.`);
  }
}

function dataDirError(dataDir: string, error: unknown): GatewayError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOTDIR' ? 'a part of that path is a file, not a folder'
    : code === 'EEXIST' ? 'it exists and is not a folder'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EROFS' ? 'the file system is read-only'
    : code === 'ENOSPC' ? 'the disk is full'
    : (error as Error).message;
  return new GatewayError('DATA_DIR_UNUSABLE', `FALKORDB_DATA_DIR ${dataDir} cannot be created or written (${reason}). Point FALKORDB_DATA_DIR at a folder the gateway can create and write to, or fix that path.`, { variable: 'FALKORDB_DATA_DIR' });
}

async function prepareDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(path.join(dataDir, IMPORT_DIR), { recursive: true, mode: 0o700 });
    if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'EEXIST' });
    // Proves the folder is writable before anything else depends on it.
    await writeFile(path.join(dataDir, '.write-test'), '');
    await rm(path.join(dataDir, '.write-test'));
  } catch (error) {
    throw dataDirError(dataDir, error);
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A zombie still answers kill(0) but is gone for our purposes.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Whether `pid` runs our config file: true, false, or undefined when this OS cannot tell. */
function runsConfig(pid: number, configPath: string): boolean | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(configPath);
  } catch {
    return process.platform === 'linux' ? false : undefined;
  }
}

async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function quoteConfig(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Sends a few commands over a bare socket and returns the first line of each reply.
 * Enough for AUTH/PING/SHUTDOWN, and needs no client while the server may not exist yet.
 */
function rawCommands(url: string, commands: readonly (readonly string[])[], timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const target = url.startsWith('/') ? { path: url } : { host: new URL(url).hostname, port: Number(new URL(url).port) };
    const socket = net.createConnection(target);
    const lines: string[] = [];
    let buffered = '';
    const timer = setTimeout(() => socket.destroy(new Error('no answer in time')), timeoutMs);
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined && lines.length === 0) reject(error);
      else resolve(lines);
    };
    socket.on('connect', () => socket.write(commands.map(encodeCommand).join('')));
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) !== -1) {
        lines.push(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
      }
      if (lines.length >= commands.length) finish();
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('connection closed')));
  });
}

/** Takes `<dataDir>/embedded.json` as a lock, first clearing a stale one or an orphaned server. */
async function claimDataDir(dataDir: string, logger: Logger): Promise<void> {
  const statePath = path.join(dataDir, STATE_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(statePath, JSON.stringify({ url: '', password: '', serverPid: 0, ownerPid: process.pid }), { flag: 'wx', mode: 0o600 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw dataDirError(dataDir, error);
    }
    const state = readStateFile(dataDir);
    if (state !== undefined) {
      const serverAlive = pidAlive(state.serverPid);
      if (pidAlive(state.ownerPid) && (state.serverPid === 0 || serverAlive)) {
        const who = state.ownerPid === process.pid ? `an embedded FalkorDB this process (pid ${state.ownerPid}) already started` : `another gateway (pid ${state.ownerPid})`;
        throw new GatewayError('DATA_DIR_UNUSABLE', `FALKORDB_DATA_DIR ${dataDir} is in use by ${who}; stop it or choose another FALKORDB_DATA_DIR.`, { variable: 'FALKORDB_DATA_DIR' });
      }
      if (serverAlive) await stopOrphan(state, dataDir, logger);
    }
    await rm(statePath, { force: true });
  }
  throw new GatewayError('DATA_DIR_UNUSABLE', `FALKORDB_DATA_DIR ${dataDir} is being claimed by another gateway at the same moment; choose another FALKORDB_DATA_DIR.`, { variable: 'FALKORDB_DATA_DIR' });
}

/** Shuts down a server whose gateway died without stopping it, so its data is saved and the dir is free. */
async function stopOrphan(state: EmbeddedState, dataDir: string, logger: Logger): Promise<void> {
  const configPath = path.join(dataDir, CONFIG_FILE);
  const ours = runsConfig(state.serverPid, configPath);
  if (ours === false) return; // the pid was reused by an unrelated process
  logger.warn({ serverPid: state.serverPid, dataDir }, 'an embedded FalkorDB left running by a gateway that is gone; shutting it down cleanly first');
  await rawCommands(state.url, [['AUTH', state.password], ['SHUTDOWN', 'SAVE']], 30_000).catch(() => []);
  if (await waitForPidExit(state.serverPid, 30_000)) return;
  if (ours === true) {
    process.kill(state.serverPid, 'SIGTERM');
    if (await waitForPidExit(state.serverPid, STOP_TIMEOUT_MS)) return;
  }
  throw new GatewayError('DATA_DIR_UNUSABLE', `FALKORDB_DATA_DIR ${dataDir} is still used by a FalkorDB server (pid ${state.serverPid}) that a previous gateway left running, and it did not stop; stop that process, or choose another FALKORDB_DATA_DIR.`, { variable: 'FALKORDB_DATA_DIR' });
}

function serverConfig(o: { dataDir: string; socketPath?: string | undefined; port?: number | undefined; password: string; modulePath: string; limits: readonly DatabaseLimit[] }): string {
  const lines = [
    'daemonize no',
    'protected-mode yes',
    // Lets a later start recognise this server in the process table (orphan check).
    'proc-title-template "{title} {listen-addr} {config-file}"',
    `requirepass ${quoteConfig(o.password)}`,
    `dir ${quoteConfig(o.dataDir)}`,
    `dbfilename ${SNAPSHOT_FILE}`,
    'appendonly yes',
    `appenddirname ${APPEND_ONLY_DIR}`,
    'appendfsync everysec',
    'save 3600 1 300 100 60 10000',
    `loadmodule ${quoteConfig(o.modulePath)} IMPORT_FOLDER ${quoteConfig(path.join(o.dataDir, IMPORT_DIR) + path.sep)}${moduleArguments(o.limits).map((a) => ` ${a}`).join('')}`,
  ];
  if (o.socketPath !== undefined) lines.push('port 0', `unixsocket ${quoteConfig(o.socketPath)}`, 'unixsocketperm 700');
  else lines.push('bind 127.0.0.1', `port ${o.port}`);
  return `${lines.join('\n')}\n`;
}

async function logTail(logPath: string, fromByte: number, password: string): Promise<string> {
  try {
    const text = (await readFile(logPath)).subarray(fromByte).toString('utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '').slice(-15);
    return lines.map((l) => `  ${l.split(password).join('[REDACTED]')}`).join('\n') || '  (the log is empty)';
  } catch {
    return '  (no log was written)';
  }
}

/** Spawns the server with its output going to the log file, watching for its exit from the start. */
function spawnServer(bin: string, configPath: string, dataDir: string, logFd: number): { child: ChildProcess; exited: Promise<string> } {
  // Own process group: a Ctrl-C to the gateway must not stop the server before the gateway drains.
  const child = spawn(bin, [configPath], { cwd: dataDir, detached: true, stdio: ['ignore', logFd, logFd] });
  // Listen before any await: a server that fails at once can exit before the next tick.
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal === null ? `exit code ${code}` : `signal ${signal}`));
    child.once('error', (error) => resolve(`could not run: ${error.message}`));
  });
  return { child, exited };
}

/** Waits until the server answers PING; throws with its log if it exits first or never answers. */
async function waitUntilReady(child: ChildProcess, exited: Promise<string>, url: string, password: string, timeoutMs: number, describeExit: (how: string) => Promise<GatewayError>): Promise<void> {
  let exit: string | undefined;
  void exited.then((how) => (exit = how));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) throw await describeExit(exit);
    const replies = await rawCommands(url, [['AUTH', password], ['PING']], 2_000).catch(() => []);
    if (replies[1] === '+PONG') return;
    if (replies[0]?.startsWith('-') === true && !replies[0].startsWith('-LOADING')) {
      // Probably another server on our address, and ours is about to exit: prefer its own account.
      const timer = new AbortController();
      const how = await Promise.race([exited, sleep(2_000, undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
      if (how !== undefined) throw await describeExit(how);
      throw new GatewayError('DATABASE_UNREACHABLE', `Another server answers at ${url} (it refused the embedded FalkorDB's password: ${replies[0].split(' ')[0]}); stop it or choose another address.`);
    }
    await sleep(50);
  }
  if (exit !== undefined) throw await describeExit(exit);
  throw new GatewayError('DATABASE_UNREACHABLE', `The embedded FalkorDB (pid ${child.pid}) did not answer within ${Math.round(timeoutMs / 1000)} s; see its log in the data folder.`);
}

/** Starts the embedded FalkorDB for `dataDir`; see DESIGN.md "Embedded FalkorDB". */
export async function startEmbeddedFalkorDB(options: StartEmbeddedOptions): Promise<EmbeddedFalkorDB> {
  const { logger } = options;
  const dataDir = path.resolve(options.dataDir);
  await prepareDataDir(dataDir);
  const binary = await findServerBinary({ configuredBin: options.serverBin, logger, allowInstall: options.allowInstall ?? true });
  const modulePath = locateFalkorDBModule();
  await claimDataDir(dataDir, logger);

  const statePath = path.join(dataDir, STATE_FILE);
  const configPath = path.join(dataDir, CONFIG_FILE);
  const logPath = path.join(dataDir, LOG_FILE);
  const password = options.password ?? randomBytes(24).toString('hex');
  let child: ChildProcess | undefined;
  try {
    const port = options.tcpPort === undefined ? undefined : await claimPort(options.tcpPort);
    const socketPath = port === undefined ? embeddedSocketPath(dataDir) : undefined;
    const url = socketPath ?? `redis://127.0.0.1:${port}`;
    await writeFile(configPath, serverConfig({ dataDir, socketPath, port, password, modulePath, limits: options.limits ?? [] }), { mode: 0o600 });

    // The server writes its log to stdout; pointing stdout at the file also keeps the
    // errors it prints before its logging is set up.
    const logHandle = await open(logPath, 'a', 0o600);
    const logStart = (await logHandle.stat()).size;
    let started: { child: ChildProcess; exited: Promise<string> };
    try {
      started = spawnServer(binary.path, configPath, dataDir, logHandle.fd);
    } finally {
      await logHandle.close();
    }
    const { child: spawned, exited } = started;
    child = spawned;
    const describeExit = async (how: string): Promise<GatewayError> => {
      const tail = await logTail(logPath, logStart, password);
      const portTaken = /address already in use/i.test(tail);
      return new GatewayError(
        portTaken ? 'PORT_IN_USE' : 'DATABASE_UNREACHABLE',
        `The embedded FalkorDB server (${binary.path}) exited during start-up (${how}). Last lines of ${logPath}:\n${tail}\n` +
          (portTaken ? `Port ${port} is taken; choose another one.` : 'Fix the cause above, or set FALKORDB_URL to use a FalkorDB you run yourself.'),
      );
    };
    if (spawned.pid === undefined) throw await describeExit(await exited);
    const pid = spawned.pid;
    await writeFile(statePath, JSON.stringify({ url, password, serverPid: pid, ownerPid: process.pid } satisfies EmbeddedState), { mode: 0o600 });

    await waitUntilReady(spawned, exited, url, password, options.startTimeoutMs ?? 60_000, describeExit);
    const db = await connectDatabase({ url, password, connectTimeoutMs: 5_000, logger });
    const moduleVersion = db.moduleVersion;
    await db.close();
    logger.info({ moduleVersion, server: binary.path, serverVersion: binary.version, serverSource: binary.source, pid, address: url, dataDir }, `embedded FalkorDB ${moduleVersion} started`);
    return runningServer({ child: spawned, exited, url, password, moduleVersion, pid, statePath, logger });
  } catch (error) {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitForPidExit(child.pid, 30_000))) child.kill('SIGKILL');
    }
    await rm(statePath, { force: true });
    throw error;
  }
}

function runningServer(s: { child: ChildProcess; exited: Promise<string>; url: string; password: string; moduleVersion: string; pid: number; statePath: string; logger: Logger }): EmbeddedFalkorDB {
  let stopping: Promise<void> | undefined;
  const removeState = (): void => {
    // Only our own record: after an orphan take-over the file may belong to a newer server.
    try {
      if (JSON.parse(readFileSync(s.statePath, 'utf8')).serverPid === s.pid) rmSync(s.statePath, { force: true });
    } catch {
      // already gone
    }
  };
  // A normal exit that skipped stop(): SIGTERM still makes the server save and quit.
  const onExit = (): void => {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
    removeState();
  };
  process.on('exit', onExit);
  void s.exited.then((how) => {
    if (stopping === undefined) s.logger.error({ pid: s.pid, exit: how }, 'the embedded FalkorDB exited unexpectedly; see falkordb.log in the data folder');
  });
  // The server must not keep the gateway alive on its own; stop() re-references it while waiting.
  s.child.unref();

  const stop = async (): Promise<void> => {
    s.child.ref();
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGTERM'); // the server saves an RDB snapshot and fsyncs the AOF on SIGTERM
      const timer = new AbortController();
      const timedOut = await Promise.race([
        s.exited.then(() => false),
        sleep(STOP_TIMEOUT_MS, true, { signal: timer.signal }).catch(() => false),
      ]);
      timer.abort();
      if (timedOut) {
        s.logger.warn({ pid: s.pid }, `the embedded FalkorDB did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`);
        s.child.kill('SIGKILL');
        await s.exited;
      }
    }
    removeState();
    process.off('exit', onExit);
    s.logger.info({ pid: s.pid }, 'embedded FalkorDB stopped');
  };
  return {
    url: s.url,
    password: s.password,
    moduleVersion: s.moduleVersion,
    pid: s.pid,
    stop: () => (stopping ??= stop()),
  };
}
