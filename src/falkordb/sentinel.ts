// Finds the FalkorDB primary through Redis/Valkey Sentinel and follows failovers
// (node-redis's createSentinel), exposed as one Database. Writes are reported done
// only once enough replicas have them (WAIT), so a failover cannot lose them;
// calls that arrive while there is no primary wait for the new one, bounded.
//
// One file over 300 lines: finding the primary, leasing connections, WAIT and waiting
// through a failover are one state machine over the same client.

import { setTimeout as sleep } from 'node:timers/promises';
import { ClientClosedError, ClientOfflineError, createClient, createSentinel, ErrorReply, type RedisSentinelType } from '@redis/client';
import type { SentinelConfig, SentinelNode } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { CLIENT_NAME, connectDatabase, describeConnectFailure, retryDelayMs } from './connection.js';
import { queryChangedGraph } from './query-changed.js';
import { commandTypeMapping } from './reply-guard.js';
import { parseStats } from './shape.js';
import type { CommandOptions, Database, RespValue } from './database.js';

export interface SentinelConnectOptions extends SentinelConfig {
  /** How long start-up keeps asking the sentinels and the primary before it gives up. */
  connectTimeoutMs: number;
  logger: Logger;
  /**
   * Run on a primary the sentinels name after start-up (a failover), on a connection of its
   * own, before calls go to it (bounded by FALKORDB_SENTINEL_FAILOVER_WAIT_MS): FalkorDB's own
   * limits (node-limits.ts) are per server, so a promoted replica may lack them.
   */
  onNewPrimary?: (db: Database, address: string) => Promise<unknown>;
}

const SOCKET_CONNECT_TIMEOUT_MS = 2_000;
// Each command takes a primary connection of its own for its duration: a graph query
// holds its connection on the server while it runs, and a write shares it with its WAIT.
const PRIMARY_POOL_SIZE = 32;
// A backstop for missed failover announcements: the sentinels are asked again this often.
const SCAN_INTERVAL_MS = 5_000;
const PRIMARY_POLL_MS = 50;
const NOT_APPLIED_RETRY_MS = 100;
// Counters the gateway can afford to lose a moment of in a failover; waiting on
// replicas for each of them would slow every call and fail calls while a replica is down.
const BOOKKEEPING = new Set(['XADD', 'HINCRBY', 'HINCRBYFLOAT']);
// Commands the server flags as writes that never change anything: FalkorDB's GRAPH.EXPLAIN only plans.
const NEVER_WRITE = new Set(['GRAPH.EXPLAIN']);
// Error replies that say the command was not applied and another try may work (a
// demoted or loading primary during a failover).
const NOT_APPLIED_REPLY = /^(READONLY|LOADING|MASTERDOWN|TRYAGAIN)\b/;

/** A client's `password` option, left out when there is none. */
function passwordOption(password: string | undefined): { password?: string } {
  return password === undefined ? {} : { password };
}

/** `[ip, port]` of the primary the sentinels name, or undefined when none of them knows `masterName`. */
async function askSentinel(node: SentinelNode, options: SentinelConnectOptions): Promise<SentinelNode | undefined> {
  const client = createClient({ socket: { host: node.host, port: node.port, connectTimeout: SOCKET_CONNECT_TIMEOUT_MS, reconnectStrategy: false }, ...passwordOption(options.sentinelPassword) });
  client.on('error', () => {});
  try {
    await client.connect();
    const reply = (await client.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', options.masterName])) as unknown;
    if (!Array.isArray(reply) || reply.length < 2) return undefined;
    return { host: String(reply[0]), port: Number(reply[1]) };
  } finally {
    if (client.isOpen) client.destroy();
  }
}

function nodeName(node: SentinelNode): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

/** Asks each sentinel in turn, retrying until the deadline; throws with what each one said. */
async function findPrimary(options: SentinelConnectOptions, deadline: number): Promise<SentinelNode> {
  let delay = 100;
  for (;;) {
    const said: string[] = [];
    for (const node of options.nodes) {
      try {
        const primary = await askSentinel(node, options);
        if (primary !== undefined) return primary;
        said.push(`${nodeName(node)} knows no master named ${JSON.stringify(options.masterName)}`);
      } catch (error) {
        const { reason } = describeConnectFailure(error);
        said.push(`${nodeName(node)}: ${/NOAUTH|WRONGPASS|invalid password/i.test(reason) || /authentication/i.test(reason) ? `${reason} (check FALKORDB_SENTINEL_PASSWORD)` : reason}`);
      }
    }
    if (Date.now() + delay >= deadline) {
      throw new GatewayError(
        'DATABASE_UNREACHABLE',
        `No sentinel in FALKORDB_SENTINELS named the FalkorDB primary ${JSON.stringify(options.masterName)} (${said.join('; ')}). Check FALKORDB_SENTINELS, FALKORDB_SENTINEL_MASTER and that the sentinels run.`,
        { variable: 'FALKORDB_SENTINELS' },
      );
    }
    options.logger.debug({ sentinels: said }, 'no sentinel named the primary yet; retrying');
    await sleep(delay);
    delay = Math.min(delay * 2, 2_000);
  }
}

/** Thrown inside the client's retry loop so that it hands the failure back at once instead of retrying it itself. */
class Settled {
  constructor(
    readonly error: unknown,
    /** The command may have reached the server. */
    readonly maybeSent: boolean,
  ) {}
}

type Sentinel = RedisSentinelType;
type NodeClient = Parameters<Parameters<Sentinel['_execute']>[1]>[0];
type Lease = Awaited<ReturnType<Sentinel['acquire']>>;

/** Whether a GRAPH.QUERY reply reports a change; a reply of a shape not known counts as one. */
export function graphReplyWrote(reply: unknown): boolean {
  if (!Array.isArray(reply) || reply.length === 0) return true;
  const stats: unknown = reply[reply.length - 1];
  if (!Array.isArray(stats)) return true;
  return queryChangedGraph(parseStats(stats as RespValue[]).stats);
}

class SentinelDatabase implements Database {
  readonly #sentinel: Sentinel;
  readonly #options: SentinelConnectOptions;
  readonly #writes = new Map<string, boolean>();
  // Leases are kept rather than returned to the client after each command: taking one
  // builds a command proxy object, which costs far more than the command itself.
  readonly #idle: Lease[] = [];
  readonly #waiting: Array<(lease: Lease) => void> = [];
  #leased = 0;
  #closed = false;
  /** Set while onNewPrimary runs for the primary just named: calls wait for it. */
  #primaryReady: Promise<void> | undefined;

  constructor(
    sentinel: Sentinel,
    options: SentinelConnectOptions,
    readonly moduleVersion: string,
  ) {
    this.#sentinel = sentinel;
    this.#options = options;
  }

  get address(): string {
    const primary = this.#sentinel.getMasterNode();
    return `sentinel master ${this.#options.masterName}${primary === undefined ? '' : ` (primary ${nodeName(primary)})`}`;
  }

  get isReady(): boolean {
    return !this.#closed && this.#sentinel.isReady && this.#sentinel.getMasterNode() !== undefined;
  }

  async sendCommand(args: readonly string[], options: CommandOptions = {}): Promise<RespValue> {
    const deadline = Date.now() + this.#options.failoverWaitMs;
    for (;;) {
      await this.#waitForPrimary(deadline);
      await this.#waitForLimits(deadline);
      try {
        return await this.#attempt(args, options, deadline);
      } catch (error) {
        if (error instanceof Settled) {
          if (error.maybeSent && (await this.#isWrite(args[0] ?? ''))) throw this.#outcomeUnknown();
        } else if (!(error instanceof ErrorReply && NOT_APPLIED_REPLY.test(error.message))) {
          throw error;
        }
        if (Date.now() >= deadline) throw this.#unavailable(error instanceof Settled ? error.error : error);
        await sleep(NOT_APPLIED_RETRY_MS);
      }
    }
  }

  async ping(timeoutMs: number): Promise<number> {
    if (!this.isReady) throw this.#unavailable(undefined);
    const started = performance.now();
    const timeout = new AbortController();
    try {
      await Promise.race([
        this.#sentinel.sendCommand(false, ['PING']),
        sleep(timeoutMs, undefined, { signal: timeout.signal }).then(() => {
          throw new GatewayError('DATABASE_UNREACHABLE', `The FalkorDB primary (${this.address}) did not answer PING within ${timeoutMs} ms.`);
        }),
      ]);
      return performance.now() - started;
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw this.#unavailable(error);
    } finally {
      timeout.abort();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#sentinel.close();
    } catch {
      await this.#sentinel.destroy().catch(() => {});
    }
  }

  /** The sentinels named a new primary: onNewPrimary runs on it, and calls wait until it is done. */
  primaryChanged(node: SentinelNode): void {
    const hook = this.#options.onNewPrimary;
    if (hook === undefined || this.#closed) return;
    const host = node.host.includes(':') ? `[${node.host}]` : node.host;
    const address = `redis://${host}:${node.port}`;
    const run = (async () => {
      let db: Database | undefined;
      try {
        db = await connectDatabase({ url: address, password: this.#options.password, connectTimeoutMs: this.#options.failoverWaitMs, logger: this.#options.logger });
        await hook(db, nodeName(node));
      } catch (error) {
        this.#options.logger.warn({ primary: nodeName(node), reason: describeConnectFailure(error).reason }, 'could not reach the new FalkorDB primary to check its limits; calls go to it anyway');
      } finally {
        await db?.close().catch(() => {});
      }
    })();
    this.#primaryReady = run;
    void run.finally(() => {
      if (this.#primaryReady === run) this.#primaryReady = undefined;
    });
  }

  /** Waits while onNewPrimary runs on the primary just named, at most until the deadline. */
  async #waitForLimits(deadline: number): Promise<void> {
    const pending = this.#primaryReady;
    if (pending === undefined) return;
    const timer = new AbortController();
    try {
      await Promise.race([pending, sleep(Math.max(0, deadline - Date.now()), undefined, { signal: timer.signal }).catch(() => undefined)]);
    } finally {
      timer.abort();
    }
  }

  /** Waits until a primary connection is ready, or throws DATABASE_UNREACHABLE at the deadline. */
  async #waitForPrimary(deadline: number): Promise<void> {
    while (!this.isReady) {
      if (this.#closed || Date.now() >= deadline) throw this.#unavailable(undefined);
      await sleep(PRIMARY_POLL_MS);
    }
  }

  async #attempt(args: readonly string[], options: CommandOptions, deadline: number): Promise<RespValue> {
    let abandoned = false;
    let started = false;
    const late = new AbortController();
    // Bounds the wait for a free primary connection; once sent, the caller's own deadline applies.
    const tooLate = sleep(Math.max(0, deadline - Date.now()), undefined, { signal: late.signal }).then(() => {
      if (started) return new Promise<never>(() => {});
      abandoned = true;
      throw new Settled(new Error(`no primary connection within ${this.#options.failoverWaitMs} ms`), false);
    });
    tooLate.catch(() => {});
    const run = (async () => {
      const lease = await this.#borrow();
      try {
        return await lease._execute(false, async (client) => {
          if (abandoned) throw new Settled(new Error('abandoned'), false);
          started = true;
          return this.#send(client as unknown as NodeClient, args, options);
        });
      } finally {
        this.#giveBack(lease);
      }
    })();
    run.catch(() => {});
    try {
      return (await Promise.race([run, tooLate])) as RespValue;
    } finally {
      late.abort();
    }
  }

  /** A primary connection of this instance's own, waiting for one when all are busy. */
  async #borrow(): Promise<Lease> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#leased < PRIMARY_POOL_SIZE) {
      this.#leased++;
      try {
        return await this.#sentinel.acquire();
      } catch (error) {
        this.#leased--;
        throw error;
      }
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #giveBack(lease: Lease): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next(lease);
    else this.#idle.push(lease);
  }

  /** Runs one command on one primary connection, with WAIT after a write. */
  async #send(client: NodeClient, args: readonly string[], options: CommandOptions): Promise<RespValue> {
    const typed = commandTypeMapping(options);
    let sent = false;
    try {
      const name = (args[0] ?? '').toUpperCase();
      const wait = this.#options.minReplicas > 0 && options.ephemeral !== true && !BOOKKEEPING.has(name) && (await this.#isWrite(name, client));
      sent = true;
      if (!wait) return (await client.sendCommand([...args], typed)) as unknown as RespValue;
      const waitArgs = ['WAIT', String(this.#options.minReplicas), String(this.#options.waitTimeoutMs)];
      let reply: unknown;
      let acked: number;
      if (name === 'GRAPH.QUERY') {
        // Most graph queries only read: WAIT only after one that changed something. WAIT counts
        // the writes of its own connection, so the connection must be the same one (CLIENT ID),
        // not one reconnected in between.
        const clientId = () => (client.sendCommand(['CLIENT', 'ID']) as Promise<unknown>).catch(() => undefined);
        const [before, result] = await Promise.all([clientId(), client.sendCommand([...args], typed) as Promise<unknown>]);
        reply = result;
        if (!graphReplyWrote(reply)) return reply as RespValue;
        const [after, count] = await Promise.all([clientId(), client.sendCommand(waitArgs) as Promise<unknown>]);
        acked = before !== undefined && before === after ? Number(count) : 0;
      } else {
        // Sent together on one connection: WAIT then counts the replicas that have this very write.
        const [result, count] = await Promise.all([client.sendCommand([...args], typed) as Promise<unknown>, client.sendCommand(waitArgs) as Promise<unknown>]);
        reply = result;
        acked = Number(count);
      }
      if (acked < this.#options.minReplicas) {
        throw new GatewayError(
          'WRITE_NOT_REPLICATED',
          `The write was applied on the FalkorDB primary, but only ${acked} of the ${this.#options.minReplicas} replicas required (FALKORDB_SENTINEL_MIN_REPLICAS) confirmed it within ${this.#options.waitTimeoutMs} ms, so a failover now could lose it. Check that it is there before repeating it; the operator should check the replicas.`,
        );
      }
      return reply as RespValue;
    } catch (error) {
      if (error instanceof GatewayError || error instanceof ErrorReply) throw error;
      const notSent = !sent || error instanceof ClientOfflineError || error instanceof ClientClosedError;
      throw new Settled(error, !notSent);
    }
  }

  /** Whether the server flags the command as a write (COMMAND INFO), asked once per command name. */
  async #isWrite(name: string, client?: NodeClient): Promise<boolean> {
    const upper = name.toUpperCase();
    if (NEVER_WRITE.has(upper)) return false;
    const known = this.#writes.get(upper);
    if (known !== undefined) return known;
    // Unknown and no connection to ask on: assume the worst.
    if (client === undefined) return true;
    const info = (await client.sendCommand(['COMMAND', 'INFO', upper])) as unknown;
    const entry = Array.isArray(info) ? info[0] : undefined;
    const flags = Array.isArray(entry) && Array.isArray(entry[2]) ? entry[2].map(String) : [];
    const write = flags.includes('write');
    this.#writes.set(upper, write);
    return write;
  }

  #unavailable(error: unknown): GatewayError {
    const why = this.#closed ? 'the gateway closed its connection' : error === undefined ? `no primary within ${this.#options.failoverWaitMs} ms (FALKORDB_SENTINEL_FAILOVER_WAIT_MS); a failover may be under way` : describeConnectFailure(error).reason;
    return new GatewayError('DATABASE_UNREACHABLE', `FalkorDB (${this.address}) is unavailable: ${why}. Try again shortly.`);
  }

  #outcomeUnknown(): GatewayError {
    return new GatewayError(
      'WRITE_OUTCOME_UNKNOWN',
      'The FalkorDB primary was lost while this write ran, so it may or may not have been applied. Check whether it is there before repeating it.',
    );
  }
}

/** Connects through the sentinels; throws DATABASE_UNREACHABLE or DATABASE_NOT_FALKORDB with the reason. */
export async function connectSentinel(options: SentinelConnectOptions): Promise<Database> {
  const { logger, masterName } = options;
  const deadline = Date.now() + options.connectTimeoutMs;
  const primary = await findPrimary(options, deadline);
  // The same checks as a direct connection (password, protocol, the FalkorDB module), with its messages.
  const host = primary.host.includes(':') ? `[${primary.host}]` : primary.host;
  const probe = await connectDatabase({ url: `redis://${host}:${primary.port}`, password: options.password, connectTimeoutMs: Math.max(0, deadline - Date.now()), logger }).catch((error: unknown) => {
    if (error instanceof GatewayError) {
      // The direct connection's advice names FALKORDB_URL, which sentinel mode has not.
      const message = error.message
        .replace('Check the password in FALKORDB_URL (redis://:PASSWORD@host:port).', 'Check FALKORDB_SENTINEL_DATA_PASSWORD.')
        .replace('Check FALKORDB_URL and that the server is running.', 'Check that it runs and that the gateway can reach the address the sentinels give.')
        .replace('Check the host and port in FALKORDB_URL, and use rediss:// if the server expects TLS.', 'Check the address the sentinels give for it.')
        .replace('Load falkordb.so into it, or point FALKORDB_URL at a FalkorDB server.', 'Load falkordb.so on every node the sentinels manage.');
      throw new GatewayError(error.code, `${message} (the primary the sentinels name for ${masterName})`, { variable: 'FALKORDB_SENTINELS' });
    }
    throw error;
  });
  const moduleVersion = probe.moduleVersion;
  await probe.close();

  const sentinel = createSentinel({
    name: masterName,
    sentinelRootNodes: options.nodes.map((n) => ({ host: n.host, port: n.port })),
    nodeClientOptions: {
      name: CLIENT_NAME,
      ...passwordOption(options.password),
      // Fail at once while disconnected: the gateway decides what to wait for and what to retry.
      disableOfflineQueue: true,
      socket: { connectTimeout: SOCKET_CONNECT_TIMEOUT_MS, reconnectStrategy: retryDelayMs },
    },
    sentinelClientOptions: { ...passwordOption(options.sentinelPassword), socket: { connectTimeout: SOCKET_CONNECT_TIMEOUT_MS } },
    // One more than the gateway leases, for the client's own shared connection: PING (readiness) never queues behind queries.
    masterPoolSize: PRIMARY_POOL_SIZE + 1,
    scanInterval: SCAN_INTERVAL_MS,
  });

  let lost = false;
  // Set once connected: the first primary is the one start-up checks (ensureDatabaseLimits).
  const current: { db?: SentinelDatabase } = {};
  sentinel.on('error', (error: unknown) => logger.debug({ reason: describeConnectFailure(error).reason }, 'sentinel client error'));
  sentinel.on('client-error', (event: { type: string; node: SentinelNode; error: unknown }) => {
    if (event.type === 'MASTER' && !lost) {
      lost = true;
      logger.warn({ primary: nodeName(event.node), reason: describeConnectFailure(event.error).reason }, 'FalkorDB primary connection lost; waiting for it or for a failover');
    } else {
      logger.debug({ node: nodeName(event.node), role: event.type, reason: describeConnectFailure(event.error).reason }, 'sentinel-managed connection error');
    }
  });
  sentinel.on('topology-change', (event: { type: string; node?: SentinelNode }) => {
    if (event.type !== 'MASTER_CHANGE' || event.node === undefined) return;
    lost = false;
    logger.warn({ primary: nodeName(event.node), master: masterName }, 'FalkorDB primary (re)connected through the sentinels');
    current.db?.primaryChanged(event.node);
  });

  const connected = sentinel.connect();
  connected.catch(() => {});
  const timer = new AbortController();
  try {
    const inTime = await Promise.race([connected.then(() => true), sleep(Math.max(1, deadline - Date.now()), false, { signal: timer.signal })]);
    if (!inTime) throw new Error(`no primary connection within FALKORDB_CONNECT_TIMEOUT_MS (${options.connectTimeoutMs} ms)`);
  } catch (error) {
    await sentinel.destroy().catch(() => {});
    throw new GatewayError('DATABASE_UNREACHABLE', `Cannot connect to the FalkorDB primary through the sentinels for ${masterName}: ${error instanceof Error ? error.message : String(error)}. Check FALKORDB_SENTINELS and that the primary runs.`, { variable: 'FALKORDB_SENTINELS' });
  } finally {
    timer.abort();
  }
  logger.info({ master: masterName, primary: nodeName(primary), moduleVersion }, 'connected to FalkorDB through the sentinels');
  current.db = new SentinelDatabase(sentinel as unknown as Sentinel, options, moduleVersion);
  return current.db;
}
