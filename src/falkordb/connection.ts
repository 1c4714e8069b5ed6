// Connects to one FalkorDB server with the `falkordb` client and exposes it as a
// Database: bounded retries at start, endless reconnects afterwards, fail-fast commands while down.
//
// One file over 300 lines: connecting, the retry and reconnect policy and the wording of
// failures serve the single-server, cluster and Sentinel connections alike.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { FalkorDB, type FalkorDBOptions } from 'falkordb';
import { ErrorReply } from '@redis/client';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PRODUCT_ID } from '../product.js';
import type { CommandOptions, Database, RespValue } from './database.js';
import { commandTypeMapping } from './reply-guard.js';

export interface ConnectOptions {
  /** `redis://[user:pass@]host:port`, `rediss://…`, or an absolute unix socket path. */
  url: string;
  /** Password when `url` carries none (always the case for a unix socket path). */
  password?: string | undefined;
  /** How long start-up keeps retrying an unreachable server. */
  connectTimeoutMs: number;
  logger: Logger;
  /** Called each time the connection is back after it was lost (the server may have restarted). */
  onReconnect?: () => void;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;
const SOCKET_CONNECT_TIMEOUT_MS = 5_000;
/** The name every connection of the gateway gives itself (CLIENT LIST shows it). */
export const CLIENT_NAME = PRODUCT_ID;

/** The URL without its password, safe for messages and logs. */
export function redactAddress(url: string): string {
  if (url.startsWith('/')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '';
    return parsed.toString().replace(/^(rediss?:\/\/)@/, '$1');
  } catch {
    return '[unparseable FalkorDB URL]';
  }
}

/** Redis module versions are encoded as major*10000 + minor*100 + patch. */
export function formatModuleVersion(encoded: number): string {
  return `${Math.floor(encoded / 10_000)}.${Math.floor(encoded / 100) % 100}.${encoded % 100}`;
}

/** Backoff for the reconnect loop after start: 100 ms doubling, capped at 2 s. */
export function retryDelayMs(retries: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.min(retries, 10), MAX_RETRY_MS);
}

type FailureKind = 'auth' | 'protocol' | 'transient';

/** Sorts a connect failure into "retrying cannot help" (auth, protocol) or "retry", with a short reason. */
export function describeConnectFailure(error: unknown): { kind: FailureKind; reason: string } {
  const inner = unwrap(error);
  const message = inner instanceof Error ? inner.message : String(inner);
  const code = (inner as { code?: unknown } | null)?.code;
  if (inner instanceof Error && inner.name === 'NotRespError') return { kind: 'protocol', reason: `the server there does not speak the Redis protocol (it answered ${message})` };
  if (isErrorReply(inner)) {
    if (/^WRONGPASS|invalid password|invalid username-password/i.test(message)) return { kind: 'auth', reason: 'authentication failed: the server refused the user name or password' };
    if (/^NOAUTH/.test(message)) return { kind: 'auth', reason: 'authentication failed: the server requires a password and none was given' };
    if (/called without any password configured/i.test(message)) return { kind: 'auth', reason: 'authentication failed: a password was given but the server has none configured' };
    return { kind: 'transient', reason: `the server answered: ${message}` };
  }
  switch (code) {
    case 'ECONNREFUSED': return { kind: 'transient', reason: 'connection refused' };
    case 'ENOENT': return { kind: 'transient', reason: 'no socket file at that path' };
    case 'EACCES': return { kind: 'transient', reason: 'permission denied' };
    case 'ENOTFOUND': case 'EAI_AGAIN': return { kind: 'transient', reason: 'host name not found' };
    case 'ETIMEDOUT': return { kind: 'transient', reason: 'connection timed out' };
    case 'ECONNRESET': return { kind: 'transient', reason: 'connection reset by the server' };
  }
  if (inner instanceof Error && inner.name === 'NoAnswerError') return { kind: 'transient', reason: message };
  if (inner instanceof Error && inner.name === 'ConnectionTimeoutError') return { kind: 'transient', reason: 'connection timed out' };
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code === 'EPROTO')) return { kind: 'transient', reason: `TLS failed (${message})` };
  return { kind: 'transient', reason: message };
}

/** An error reply from the server (as opposed to a socket or client-state error). */
export function isErrorReply(error: unknown): error is ErrorReply {
  return error instanceof ErrorReply;
}

// node-redis wraps the socket error when the reconnect strategy gives up.
function unwrap(error: unknown): unknown {
  const wrapped = error as { socketError?: unknown } | null;
  return wrapped !== null && typeof wrapped === 'object' && wrapped.socketError !== undefined ? wrapped.socketError : error;
}

type RedisConnection = Awaited<FalkorDB['connection']>;
export type Phase = { name: 'starting' | 'running' | 'closed' };

/**
 * The driver's reconnect strategy: at start the gateway owns the retry loop (it needs a
 * deadline and auth detection); afterwards the driver reconnects forever, until close().
 * After close() an attempt still under way ends quietly: close() destroyed its client,
 * whose loop stops once it sees that after this short wait. An error here would reject
 * the connect() of a connection the query pool was opening, which nothing awaits (an
 * unhandled rejection, "connection closed", that ends the process).
 */
export function reconnectStrategy(phase: Phase): (retries: number) => number | Error {
  return (retries) => {
    if (phase.name === 'running') return retryDelayMs(retries);
    if (phase.name === 'closed') return FIRST_RETRY_MS;
    return new Error('first connection attempt failed');
  };
}

function clientOptions(options: ConnectOptions, phase: Phase, socketConnectTimeoutMs: number): FalkorDBOptions {
  const socket = { connectTimeout: socketConnectTimeoutMs, reconnectStrategy: reconnectStrategy(phase) };
  // A client name makes the handshake run a command, so a server that needs a password
  // refuses the handshake itself (instead of the client connecting, then failing later).
  const common = { name: CLIENT_NAME, disableOfflineQueue: true };
  if (options.url.startsWith('/')) {
    return { ...common, socket: { ...socket, path: options.url }, password: options.password } as FalkorDBOptions;
  }
  // node-redis lets a password in the URL win over the option, as documented on ConnectOptions.
  return { ...common, url: options.url, socket, password: options.password } as FalkorDBOptions;
}

/** Thrown when the server answers with something that is not RESP (an HTTP server, TLS on a plain URL). */
class NotRespError extends Error {
  override readonly name = 'NotRespError';
}

/** Thrown when the connection opens but PING gets no answer in time. */
class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
}

const RESP_FIRST_BYTES = new Set('+-:$*_#,(!=%~>|');

/**
 * Checks that the server speaks RESP before the falkordb client connects: that client only gets
 * an 'error' listener after connect() returns, and a garbled first reply would crash the process.
 * A server that accepts but never answers is refused here too, since the client would wait forever.
 * Other trouble (refused, closed) is left to the real attempt, which classifies it.
 */
function probeRespServer(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    if (url.startsWith('/')) {
      socket = net.createConnection({ path: url });
    } else {
      const parsed = new URL(url);
      const port = Number(parsed.port || 6379);
      const host = parsed.hostname.replace(/^\[|\]$/g, '');
      socket = parsed.protocol === 'rediss:' ? tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined }) : net.createConnection({ host, port });
    }
    const done = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    let connected = false;
    const timer = setTimeout(() => done(connected ? new NoAnswerError(`connected, but PING got no answer within ${timeoutMs} ms`) : undefined), timeoutMs);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      connected = true;
      socket.write('*1\r\n$4\r\nPING\r\n');
    });
    socket.once('data', (chunk: Buffer) => {
      if (RESP_FIRST_BYTES.has(String.fromCharCode(chunk[0] ?? 0))) return done();
      const printable = chunk.subarray(0, 40).toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim();
      done(new NotRespError(printable === '' ? 'binary data' : JSON.stringify(printable)));
    });
    socket.once('error', () => done());
    socket.once('close', () => done());
  });
}

async function attempt(options: ConnectOptions, phase: Phase, socketConnectTimeoutMs: number): Promise<FalkorDB> {
  await probeRespServer(options.url, socketConnectTimeoutMs);
  return FalkorDB.connect(clientOptions(options, phase, socketConnectTimeoutMs));
}

/** Connects, retrying with backoff until connectTimeoutMs; fails at once on an authentication error. */
async function connectWithRetry(options: ConnectOptions, address: string, phase: Phase): Promise<FalkorDB> {
  const started = Date.now();
  const deadline = started + options.connectTimeoutMs;
  let delay = FIRST_RETRY_MS;
  for (let tries = 1; ; tries++) {
    const remaining = deadline - Date.now();
    try {
      return await attempt(options, phase, Math.min(SOCKET_CONNECT_TIMEOUT_MS, Math.max(remaining, 200)));
    } catch (error) {
      const failure = describeConnectFailure(error);
      if (failure.kind === 'protocol') {
        throw new GatewayError('DATABASE_NOT_FALKORDB', `Cannot use FalkorDB at ${address}: ${failure.reason}. Check the host and port in FALKORDB_URL, and use rediss:// if the server expects TLS.`, { address });
      }
      if (failure.kind === 'auth') {
        throw new GatewayError(
          'DATABASE_UNREACHABLE',
          `Cannot use FalkorDB at ${address}: ${failure.reason}. Check the password in FALKORDB_URL (redis://:PASSWORD@host:port).`,
          { address },
        );
      }
      if (Date.now() >= deadline) {
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        throw new GatewayError(
          'DATABASE_UNREACHABLE',
          `Cannot reach FalkorDB at ${address} after ${seconds} s and ${tries} ${tries === 1 ? 'try' : 'tries'} (${failure.reason}). Check FALKORDB_URL and that the server is running.`,
          { address },
        );
      }
      options.logger.debug({ address, reason: failure.reason, retryInMs: delay }, 'FalkorDB not reachable yet; retrying');
      await sleep(Math.min(delay, deadline - Date.now()));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}

/** Reads the graph module's version; undefined when the server has no graph module. */
export async function readGraphModuleVersion(conn: { sendCommand(args: string[]): Promise<unknown> }): Promise<string | undefined> {
  try {
    const modules = (await conn.sendCommand(['MODULE', 'LIST'])) as unknown[];
    for (const entry of modules) {
      const fields = entry as unknown[];
      const name = fields[fields.indexOf('name') + 1];
      const version = fields[fields.indexOf('ver') + 1];
      if (name === 'graph') return typeof version === 'number' ? formatModuleVersion(version) : 'unknown';
    }
    return undefined;
  } catch {
    // MODULE may be forbidden (ACL, managed services): ask the graph module directly.
    try {
      await conn.sendCommand(['GRAPH.LIST']);
      return 'unknown';
    } catch (error) {
      if (isErrorReply(error) && /unknown command/i.test(error.message)) return undefined;
      throw error;
    }
  }
}

/** Connects to FalkorDB at `url`; throws DATABASE_UNREACHABLE or DATABASE_NOT_FALKORDB. */
export async function connectDatabase(options: ConnectOptions): Promise<Database> {
  const address = redactAddress(options.url);
  const phase: Phase = { name: 'starting' };
  const db = await connectWithRetry(options, address, phase);
  phase.name = 'running';
  const conn = await db.connection;
  const logger = options.logger;

  let lost = false;
  // Without an 'error' listener a dropped connection would crash the process.
  db.on('error', (error: unknown) => {
    if (phase.name === 'closed') return;
    const { reason } = describeConnectFailure(error);
    if (!lost && !conn.isReady) {
      lost = true;
      logger.warn({ address, reason }, 'FalkorDB connection lost; reconnecting');
    } else {
      logger.debug({ address, reason }, 'FalkorDB still unreachable');
    }
  });
  conn.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.info({ address }, 'FalkorDB connection restored');
    options.onReconnect?.();
  });

  let moduleVersion: string | undefined;
  try {
    moduleVersion = await readGraphModuleVersion(conn);
  } catch (error) {
    await closeQuietly(db, phase);
    throw new GatewayError('DATABASE_UNREACHABLE', `FalkorDB at ${address} connected but failed the module check (${describeConnectFailure(error).reason}). Check the server and FALKORDB_URL.`, { address });
  }
  if (moduleVersion === undefined) {
    await closeQuietly(db, phase);
    throw new GatewayError(
      'DATABASE_NOT_FALKORDB',
      `The server at ${address} answers but has no FalkorDB module (GRAPH.* commands are unknown). Load falkordb.so into it, or point FALKORDB_URL at a FalkorDB server.`,
      { address },
    );
  }
  logger.debug({ address, moduleVersion }, 'connected to FalkorDB');
  const pool = conn.createPool(QUERY_POOL);
  // The main connection already reports losing and regaining the server.
  pool.on('error', () => {});
  try {
    await pool.connect();
  } catch (error) {
    await closeQuietly(db, phase);
    throw new GatewayError('DATABASE_UNREACHABLE', `FalkorDB at ${address} connected but a second connection failed (${describeConnectFailure(error).reason}). Check the server's maxclients.`, { address });
  }
  return new FalkorDBDatabase(db, conn, pool, address, moduleVersion, phase);
}

async function closeQuietly(db: FalkorDB, phase: Phase): Promise<void> {
  phase.name = 'closed';
  try {
    await db.close();
  } catch {
    // already closed
  }
}

// The server stops reading a connection while a graph query on it runs, so queries
// get connections of their own: one slow query must not hold up every other command.
export const QUERY_COMMANDS = new Set(['GRAPH.QUERY', 'GRAPH.RO_QUERY', 'GRAPH.PROFILE']);
const QUERY_POOL = { minimum: 1, maximum: 128, acquireTimeout: 5_000, cleanupDelay: 30_000 };
type QueryPool = ReturnType<RedisConnection['createPool']>;
/** How long close() waits for connections the query pool is still opening (see #poolOpened). */
const POOL_OPENING_WAIT_MS = 2_000;

class FalkorDBDatabase implements Database {
  /** Commands sent to the query pool and not yet settled, running or queued for a connection. */
  #poolCommands = 0;

  constructor(
    private readonly db: FalkorDB,
    private readonly conn: RedisConnection,
    private readonly pool: QueryPool,
    readonly address: string,
    readonly moduleVersion: string,
    private readonly phase: Phase,
  ) {}

  get isReady(): boolean {
    return this.phase.name !== 'closed' && this.conn.isReady;
  }

  async sendCommand(args: readonly string[], options: CommandOptions = {}): Promise<RespValue> {
    try {
      const onPool = QUERY_COMMANDS.has(args[0] ?? '');
      const target = onPool ? this.pool : this.conn;
      if (onPool) this.#poolCommands += 1;
      try {
        const typed = commandTypeMapping(options);
        const reply = typed === undefined ? await target.sendCommand([...args]) : await target.sendCommand([...args], typed);
        return reply as unknown as RespValue;
      } finally {
        if (onPool) this.#poolCommands -= 1;
      }
    } catch (error) {
      // Error replies carry the server's text; anything else means the connection is not usable.
      if (isErrorReply(error)) throw error;
      throw this.unavailable(error);
    }
  }

  async ping(timeoutMs: number): Promise<number> {
    const started = performance.now();
    const controller = new AbortController();
    const timeout = sleep(timeoutMs, undefined, { signal: controller.signal }).then(() => {
      throw new GatewayError('DATABASE_UNREACHABLE', `FalkorDB at ${this.address} did not answer PING within ${timeoutMs} ms.`, { address: this.address });
    });
    try {
      await Promise.race([this.sendCommand(['PING']), timeout]);
      return performance.now() - started;
    } finally {
      controller.abort();
      timeout.catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.phase.name === 'closed') return;
    await this.#poolOpened();
    // A second close() may have run meanwhile; destroying the pool twice throws.
    if ((this.phase as Phase).name === 'closed') return;
    this.pool.destroy();
    // destroy() leaves the pool's idle-connection cleanup timer running, which would keep
    // the process alive for up to cleanupDelay after everything else closed. A connection the
    // pool was still opening (the server being down) ends its retry loop quietly after destroy()
    // and comes back to the pool, which schedules that timer again; when it fires it destroys the
    // destroyed connection, which throws out of the timer. So no timer is kept after close.
    clearTimeout(this.pool.cleanupTimeout);
    // The pool object handed out is a view whose prototype is the pool that sets the timer.
    const owner: object = Object.hasOwn(this.pool, 'cleanupTimeout') ? this.pool : (Object.getPrototypeOf(this.pool) as object);
    Object.defineProperty(owner, 'cleanupTimeout', {
      configurable: true,
      get: () => undefined,
      set: (timer: NodeJS.Timeout | undefined) => clearTimeout(timer),
    });
    await closeQuietly(this.db, this.phase);
  }

  /**
   * Waits (at most POOL_OPENING_WAIT_MS) until the query pool is opening no connection.
   * A command that finds no idle connection makes the pool open one, and @redis/client
   * (5.12) neither awaits nor catches that connect: destroying the pool while it is under
   * way rejects it with nobody listening, an unhandledRejection "connection closed".
   * The pool's connections in use are the running commands plus the ones being opened.
   */
  async #poolOpened(): Promise<void> {
    const deadline = performance.now() + POOL_OPENING_WAIT_MS;
    const opening = () => this.pool.clientsInUse - Math.max(this.#poolCommands - this.pool.tasksQueueLength, 0);
    while (opening() > 0 && performance.now() < deadline) await sleep(10);
  }

  private unavailable(error: unknown): GatewayError {
    const state =
      this.phase.name === 'closed' ? 'the gateway closed its connection'
      : (error as Error | null)?.name === 'ClientOfflineError' ? 'not connected; reconnecting'
      : `the connection failed (${describeConnectFailure(error).reason}); reconnecting`;
    return new GatewayError('DATABASE_UNREACHABLE', `FalkorDB at ${this.address} is unavailable: ${state}. Try again shortly.`, { address: this.address });
  }
}
