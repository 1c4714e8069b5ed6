// A Database that spreads read-only queries (GRAPH.RO_QUERY) over read replicas
// in turn and sends everything else to the primary. A replica that fails leaves
// the rotation until a background check finds it healthy again; the call it
// failed is retried elsewhere, so callers never see a replica's trouble.
//
// One file over 300 lines: the rotation, the health checks and the retries share the
// replica list and its state.

import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorReply } from '@redis/client';
import type { LRUCache } from 'lru-cache';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { connectDatabase, describeConnectFailure, redactAddress } from './connection.js';
import type { CommandOptions, Database, RespValue } from './database.js';
import { PrimaryWatch, primaryUnavailable } from './primary-watch.js';
import { boundedCache } from '../bounded-cache.js';

export interface ReplicaOptions {
  primary: Database;
  /** `redis://…` or `rediss://…`, with credentials (see withCredentialsOf). */
  urls: readonly string[];
  /** After a write to a graph, reads of it stay on the primary this long; 0: off. */
  readAfterWriteMs: number;
  /** How long start-up waits for a replica before going on without it. */
  connectTimeoutMs: number;
  logger: Logger;
  /** See ReplicaAdmission. */
  admit?: ReplicaAdmission;
}

/**
 * Asked before a replica serves reads, and again after it restarted (a new run_id): why it
 * may not (it stays out of the rotation, its reads go to the primary and the other replicas,
 * and it is asked again later), or undefined. FalkorDB's own limits (node-limits.ts) are
 * per server and gone after a restart.
 */
export type ReplicaAdmission = (db: Database, address: string) => Promise<string | undefined>;

// Start-up waits at most this long for replicas; an unreachable one is connected in the background.
const START_WAIT_MS = 3_000;
// Background attempts to (re)connect a replica: each one retries for this long, then backs off.
const CONNECT_ATTEMPT_MS = 5_000;
// A replica out of the rotation is checked again after 250 ms, doubling to 10 s.
const FIRST_RECHECK_MS = 250;
const MAX_RECHECK_MS = 10_000;
// A replica in the rotation is checked this often, so one that lost its primary or hangs leaves it.
const HEALTH_INTERVAL_MS = 2_000;
const HEALTH_TIMEOUT_MS = 1_000;
const MAX_PINNED_GRAPHS = 100_000;

const REPLICA_READ = 'GRAPH.RO_QUERY';
// Commands after which this instance reads the graph from the primary for a while.
const GRAPH_WRITES = new Set(['GRAPH.QUERY', 'GRAPH.DELETE', 'GRAPH.COPY', 'GRAPH.RESTORE']);
// Commands that only read, which a replica answers as well while the primary is down: graph
// reads and the gateway state the call path reads (policy, cache versions, listings).
const OUTAGE_READS = new Set([REPLICA_READ, 'GRAPH.LIST', 'GET', 'MGET', 'EXISTS', 'SMEMBERS', 'SISMEMBER', 'ZRANGE', 'ZSCORE', 'SCAN', 'PTTL', 'TTL', 'HGET', 'HMGET', 'HGETALL', 'XRANGE', 'XREVRANGE', 'XLEN', 'TYPE']);
// Error replies that say "this server cannot serve now", not "this query is wrong".
const UNAVAILABLE_REPLY = /^(LOADING|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN|NOAUTH|WRONGPASS|NOPERM|READONLY)\b|unknown command/i;

/** Whether a replica's failure means "try another server" rather than "the caller's query failed". */
export function isReplicaUnavailable(error: unknown): boolean {
  if (isGatewayError(error)) return error.code === 'DATABASE_UNREACHABLE' || error.code === 'DATABASE_NOT_FALKORDB';
  if (error instanceof ErrorReply) return UNAVAILABLE_REPLY.test(error.message);
  // Not a server reply: the connection itself failed.
  return true;
}

/** A replica that has not received the graph yet (lag): the primary has the answer. */
function isMissingGraph(error: unknown): boolean {
  return error instanceof ErrorReply && /empty key/i.test(error.message);
}

/** Why `INFO replication` rules a server out as a replica to read from, or undefined when it is fine. */
export function replicationProblem(info: string, primaryDown = false): string | undefined {
  const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const role = field('role');
  if (role !== 'slave' && role !== 'replica') return `it is not a replica (role:${role ?? 'unknown'}); list only replicas in FALKORDB_REPLICA_URLS`;
  const link = field('master_link_status');
  // With the primary down every replica's link is down: it serves what it last received.
  if (link !== 'up' && !primaryDown) return `its link to the primary is ${link ?? 'unknown'} (its data may be stale or loading)`;
  return undefined;
}

class Replica {
  db: Database | undefined;
  inRotation = false;
  /** Why it is out of the rotation, as last logged (so each change is logged once). */
  problem: string | undefined = 'not connected yet';
  recheckMs = FIRST_RECHECK_MS;
  timer: NodeJS.Timeout | undefined;
  /**
   * Counts its joins to the rotation and its restarts (a new run_id seen by the health
   * check): a replica that comes back may have lost its ACL users.
   */
  joins = 0;
  runId: string | undefined;
  /** The run_id `admit` last passed; `admitted` false until it passes (see #admitted). */
  admittedRunId: string | undefined;
  admitted = false;

  constructor(
    readonly url: string,
    readonly address: string,
  ) {}
}

class ReplicatedDatabase implements Database {
  readonly #primary: Database;
  readonly #replicas: Replica[];
  readonly #options: ReplicaOptions;
  readonly #logger: Logger;
  readonly #pinned: LRUCache<string, true> | undefined;
  readonly #watch: PrimaryWatch;
  /** Settles when the primary is lost, so reads waiting on a hung primary go to a replica instead. */
  #lost = lostSignal();
  #next = 0;
  #closed = false;

  constructor(options: ReplicaOptions) {
    this.#options = options;
    this.#primary = options.primary;
    this.#logger = options.logger;
    this.#replicas = options.urls.map((url) => new Replica(url, redactAddress(url)));
    this.#pinned = options.readAfterWriteMs > 0 ? boundedCache(MAX_PINNED_GRAPHS, { ttl: options.readAfterWriteMs }) : undefined;
    this.#watch = new PrimaryWatch(this.#primary, this.#logger);
    this.#watch.onChange((up) => {
      if (up) {
        this.#lost = lostSignal();
        return;
      }
      this.#lost.settle();
      // Replicas left out for their link to the lost primary may serve again at once.
      for (const replica of this.#replicas) if (!replica.inRotation && replica.db !== undefined) this.#schedule(replica, () => this.#check(replica));
    });
  }

  get primaryAvailable(): boolean {
    return this.#watch.available;
  }

  onPrimaryChange(listener: (up: boolean) => void): () => void {
    return this.#watch.onChange(listener);
  }

  get address(): string {
    return this.#primary.address;
  }

  get moduleVersion(): string {
    return this.#primary.moduleVersion;
  }

  get isReady(): boolean {
    return !this.#closed && this.#primary.isReady;
  }

  /** Replicas now serving reads, by address (for logs and tests). */
  get readReplicas(): string[] {
    return this.#replicas.filter((r) => r.inRotation).map((r) => r.address);
  }

  /**
   * The primary and every replica with the gateway's own connection to it (undefined
   * while not connected), for work each server needs separately: ACL users are not
   * replicated (TENANT_ISOLATION=acl).
   */
  nodes(): { primary: Database; replicas: Array<{ address: string; db: Database | undefined; inRotation: boolean; joins: number }> } {
    return { primary: this.#primary, replicas: this.#replicas.map((r) => ({ address: r.address, db: r.db, inRotation: r.inRotation, joins: r.joins })) };
  }

  /** Connects every replica, waiting at most START_WAIT_MS; the rest join in the background. */
  async start(): Promise<void> {
    const firstTries = this.#replicas.map((replica) => this.#connect(replica, Math.min(this.#options.connectTimeoutMs, START_WAIT_MS), true));
    await Promise.all(firstTries);
  }

  sendCommand(args: readonly string[], options?: CommandOptions): Promise<RespValue> {
    return this.#route(args, options?.primary === true, () => this.#primary.sendCommand(args, options), (replica) => replica.db!.sendCommand(args, options));
  }

  /**
   * Routes `args` as sendCommand does (read-only queries to the replicas in turn, the
   * rest and read-after-write to the primary, a failing replica taken out and the call
   * retried elsewhere), but runs it with `send` on connections of the caller's own:
   * `send(undefined)` for the primary, `send(url)` for a replica, its URL with the
   * gateway's credentials. For the tenants' users of TENANT_ISOLATION=acl.
   */
  routeVia(args: readonly string[], send: (replicaUrl: string | undefined) => Promise<RespValue>, toPrimary = false): Promise<RespValue> {
    return this.#route(args, toPrimary, () => send(undefined), (replica) => send(replica.url));
  }

  async #route(args: readonly string[], toPrimary: boolean, onPrimary: () => Promise<RespValue>, onReplica: (replica: Replica) => Promise<RespValue>): Promise<RespValue> {
    const name = args[0] ?? '';
    const key = args[1];
    const readOnly = OUTAGE_READS.has(name.toUpperCase());
    if (!this.#watch.available) {
      if (!readOnly) throw primaryUnavailable(this.#primary.address);
      return this.#fromReplicas(onReplica, true);
    }
    if (toPrimary || name !== REPLICA_READ || (key !== undefined && this.#pinned?.has(key) === true)) {
      if (key !== undefined && GRAPH_WRITES.has(name)) this.#pinned?.set(key, true);
      try {
        if (!readOnly) return await onPrimary();
        // A read is not left waiting on a primary that hangs: once the primary counts as lost, a replica answers it.
        const asked = onPrimary();
        const answer = await Promise.race([asked.then((reply) => ({ reply })), this.#lost.promise]);
        if (answer !== undefined) return answer.reply;
        asked.catch(() => undefined);
        return await this.#fromReplicas(onReplica, true);
      } catch (error) {
        if (!isGatewayError(error) || error.code !== 'DATABASE_UNREACHABLE' || this.#closed) throw error;
        this.#watch.markDown(error.message);
        // A write that failed on its way may have been applied: its caller keeps the error it got.
        if (!readOnly) throw error;
        return this.#fromReplicas(onReplica, true);
      } finally {
        // From the end of the write too: the window must cover reads right after it.
        if (key !== undefined && GRAPH_WRITES.has(name)) this.#pinned?.set(key, true);
      }
    }
    return this.#fromReplicas(onReplica, false, onPrimary);
  }

  /**
   * Runs a read on the replicas in turn; a failing one leaves the rotation. Then, when
   * the primary is up, on the primary (a graph a replica lacks yet, or none left).
   */
  async #fromReplicas(onReplica: (replica: Replica) => Promise<RespValue>, outage: boolean, onPrimary?: () => Promise<RespValue>): Promise<RespValue> {
    for (const replica of this.#rotation()) {
      try {
        return await onReplica(replica);
      } catch (error) {
        if (isMissingGraph(error) && !outage) break;
        if (!isReplicaUnavailable(error)) throw error;
        this.#takeOut(replica, describeConnectFailure(error).reason);
      }
    }
    if (onPrimary !== undefined && this.#watch.available) return onPrimary();
    throw new GatewayError('DATABASE_UNREACHABLE', 'Neither the primary database server nor any read replica can be reached now. Try again shortly.', { address: this.#primary.address });
  }

  ping(timeoutMs: number): Promise<number> {
    return this.#primary.ping(timeoutMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch.close();
    for (const replica of this.#replicas) clearTimeout(replica.timer);
    await Promise.all(this.#replicas.map((r) => r.db?.close()));
    await this.#primary.close();
  }

  /** The replicas in the rotation, starting with the next one in turn. */
  #rotation(): Replica[] {
    // A replica whose connection dropped comes back only through a health check, never straight
    // on reconnect: a restarted replica is empty or loading until it has synced.
    for (const replica of this.#replicas) if (replica.inRotation && replica.db?.isReady !== true) this.#takeOut(replica, 'connection lost; reconnecting');
    const ready = this.#replicas.filter((r) => r.inRotation);
    if (ready.length === 0) return [];
    const start = this.#next++ % ready.length;
    if (this.#next >= Number.MAX_SAFE_INTEGER) this.#next = 0;
    return [...ready.slice(start), ...ready.slice(0, start)];
  }

  async #connect(replica: Replica, timeoutMs: number, atStart: boolean): Promise<void> {
    if (this.#closed) return;
    try {
      replica.db = await connectDatabase({ url: replica.url, connectTimeoutMs: timeoutMs, logger: this.#logger, ...(this.#options.admit === undefined ? {} : { onReconnect: () => this.#reconnected(replica) }) });
    } catch (error) {
      // The connection's advice names FALKORDB_URL; for a replica the place to look is its own list.
      const reason = isGatewayError(error) ? error.message.replace(/FALKORDB_URL\b/g, 'FALKORDB_REPLICA_URLS') : describeConnectFailure(error).reason;
      if (atStart) {
        this.#logger.warn({ replica: replica.address, reason }, 'read replica not reachable at start; reads go to the primary and the other replicas until it is, retrying in the background');
        replica.problem = 'unreachable';
      } else if (replica.problem !== 'unreachable') {
        this.#logger.warn({ replica: replica.address, reason }, 'read replica not reachable; retrying in the background');
        replica.problem = 'unreachable';
      } else {
        this.#logger.debug({ replica: replica.address, reason }, 'read replica still not reachable');
      }
      this.#schedule(replica, () => this.#connect(replica, CONNECT_ATTEMPT_MS, false));
      return;
    }
    if (this.#closed) {
      await replica.db.close();
      return;
    }
    await this.#check(replica);
  }

  /** Puts the replica in the rotation if it is reachable and in sync with a primary, else schedules the next check. */
  async #check(replica: Replica): Promise<void> {
    if (this.#closed || replica.db === undefined) return;
    const problem = (await this.#probe(replica)) ?? (await this.#admitted(replica));
    if (this.#closed) return;
    if (problem === undefined) {
      if (!replica.inRotation) {
        replica.inRotation = true;
        replica.joins += 1;
        replica.problem = undefined;
        replica.recheckMs = FIRST_RECHECK_MS;
        this.#logger.info({ replica: replica.address }, 'read replica in the rotation');
      }
      replica.timer = setTimeout(() => void this.#check(replica), HEALTH_INTERVAL_MS).unref();
      return;
    }
    this.#takeOut(replica, problem);
  }

  async #probe(replica: Replica): Promise<string | undefined> {
    const db = replica.db!;
    if (!db.isReady) return 'not connected; reconnecting';
    const timeout = new AbortController();
    try {
      const info = await Promise.race([
        db.sendCommand(['INFO', 'server', 'replication']),
        sleep(HEALTH_TIMEOUT_MS, undefined, { signal: timeout.signal }).then(() => {
          throw new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`);
        }),
      ]);
      const runId = /^run_id:(\w+)/m.exec(String(info))?.[1];
      if (runId !== replica.runId) {
        replica.runId = runId;
        replica.joins += 1;
      }
      return replicationProblem(String(info), !this.#watch.available);
    } catch (error) {
      return error instanceof Error && error.message.startsWith('no answer') ? error.message : describeConnectFailure(error).reason;
    } finally {
      timeout.abort();
    }
  }

  /**
   * The connection is back: the server may have restarted without its limits, so it
   * serves no reads until the next check (at most HEALTH_INTERVAL_MS away) admits it again.
   */
  #reconnected(replica: Replica): void {
    if (this.#closed) return;
    replica.admitted = false;
    if (!replica.inRotation) return;
    replica.inRotation = false;
    this.#logger.info({ replica: replica.address }, 'read replica reconnected; out of the rotation until it is checked again');
  }

  /** Runs the admission (ReplicaOptions.admit) when the replica has not passed it in its current run. */
  async #admitted(replica: Replica): Promise<string | undefined> {
    const admit = this.#options.admit;
    if (admit === undefined || (replica.admitted && replica.runId !== undefined && replica.admittedRunId === replica.runId)) return undefined;
    // A restarted server serves no reads until it passes again.
    replica.inRotation = false;
    replica.admitted = false;
    const refused = await admit(replica.db!, replica.address);
    if (refused === undefined) {
      replica.admitted = true;
      replica.admittedRunId = replica.runId;
    }
    return refused;
  }

  #takeOut(replica: Replica, problem: string): void {
    if (this.#closed) return;
    const wasIn = replica.inRotation;
    replica.inRotation = false;
    if (wasIn || replica.problem !== problem) {
      this.#logger.warn({ replica: replica.address, reason: problem }, 'read replica out of the rotation; its reads go elsewhere until it is healthy again');
      replica.problem = problem;
    }
    if (wasIn) replica.recheckMs = FIRST_RECHECK_MS;
    this.#schedule(replica, () => this.#check(replica));
  }

  #schedule(replica: Replica, run: () => Promise<void>): void {
    clearTimeout(replica.timer);
    if (this.#closed) return;
    const delay = replica.recheckMs;
    replica.recheckMs = Math.min(replica.recheckMs * 2, MAX_RECHECK_MS);
    replica.timer = setTimeout(() => void run(), delay).unref();
  }
}

/** What the tenants' connections of TENANT_ISOLATION=acl need of the replica router. */
export type ReplicaRouter = Pick<ReplicatedDatabase, 'nodes' | 'routeVia'>;

function lostSignal(): { promise: Promise<undefined>; settle: () => void } {
  let settle: () => void = () => undefined;
  const promise = new Promise<undefined>((resolve) => {
    settle = () => resolve(undefined);
  });
  return { promise, settle };
}

/** The replica router behind `db`, when it is one. */
export function replicaNodesOf(db: Database): ReplicaRouter | undefined {
  return db instanceof ReplicatedDatabase ? db : undefined;
}

/** `url` with the user name and password of `from` when it carries neither (replicas usually share the primary's). */
export function withCredentialsOf(url: string, from: string): string {
  const target = new URL(url);
  if (target.username !== '' || target.password !== '' || from.startsWith('/')) return url;
  const source = new URL(from);
  target.username = source.username;
  target.password = source.password;
  return target.toString();
}

/** Wraps `primary` with read replicas; resolves once each replica answered or START_WAIT_MS passed. */
export async function openReplicatedDatabase(options: ReplicaOptions): Promise<Database & Pick<ReplicatedDatabase, 'readReplicas' | 'nodes'>> {
  const db = new ReplicatedDatabase(options);
  await db.start();
  return db;
}
