// A Redis/Valkey Cluster as one Database: commands routed by key, reads of
// several keys split per key, keyspace-wide reads over every primary, and
// graph queries on connections of their own.

import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorReply, type RedisClusterType, type RedisFunctions, type RedisModules, type RedisScripts, type RespVersions, type TypeMapping } from '@redis/client';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { EACH_ARG_A_KEY, nextClusterScanCursor, parseClusterScanCursor, routingKey } from './cluster-routing.js';
import { describeConnectFailure, isErrorReply, QUERY_COMMANDS, type Phase } from './connection.js';
import { commandTypeMapping } from './reply-guard.js';
import type { CommandOptions, Database, RespValue } from './database.js';

export type Cluster = RedisClusterType<RedisModules, RedisFunctions, RedisScripts, RespVersions, TypeMapping>;

// Graph queries (QUERY_COMMANDS) block their connection on the server while they run, so
// they get cluster clients of their own, as on a single server (see connection.ts).
const MAX_QUERY_CLIENTS = 16;
const LAYOUT_MAX_AGE_MS = 60_000;

/** Extra cluster clients for graph queries, added while every existing one is busy. */
class QueryClients {
  readonly #base: Cluster;
  readonly #clients: Array<{ cluster: Cluster; busy: number }> = [];
  #adding: Promise<void> | undefined;
  #closed = false;

  constructor(base: Cluster) {
    this.#base = base;
  }

  async run<T>(work: (cluster: Cluster) => Promise<T>): Promise<T> {
    const entry = await this.#take();
    try {
      return await work(entry.cluster);
    } finally {
      entry.busy--;
    }
  }

  /** An idle client (adding one while there is room), else the least busy; counted busy before it is handed out. */
  async #take(): Promise<{ cluster: Cluster; busy: number }> {
    let entry = this.#clients.find((c) => c.busy === 0);
    if (entry === undefined && this.#clients.length < MAX_QUERY_CLIENTS) {
      this.#adding ??= this.#add().finally(() => (this.#adding = undefined));
      // Without a new client now, the least busy one (or the main client) serves.
      await this.#adding.catch(() => undefined);
      entry = this.#clients.find((c) => c.busy === 0);
    }
    entry ??= [...this.#clients].sort((a, b) => a.busy - b.busy)[0] ?? { cluster: this.#base, busy: 0 };
    entry.busy++;
    return entry;
  }

  async #add(): Promise<void> {
    const cluster = this.#base.duplicate();
    cluster.on('error', () => {});
    cluster.on('node-error', () => {});
    try {
      await cluster.connect();
    } catch (error) {
      cluster.destroy();
      throw error;
    }
    // Closed while this one connected: it must not outlive the database.
    if (this.#closed) cluster.destroy();
    else this.#clients.push({ cluster, busy: 0 });
  }

  destroy(): void {
    this.#closed = true;
    for (const { cluster } of this.#clients.splice(0)) cluster.destroy();
  }
}

export class ClusterDatabase implements Database {
  readonly #cluster: Cluster;
  readonly #queries: QueryClients;
  readonly #phase: Phase;
  readonly #logger: Logger;
  // Connections to every node, replicas included, opened on first need (see everyNode).
  #all: Promise<Cluster> | undefined;
  #allSince = 0;

  constructor(cluster: Cluster, readonly address: string, readonly moduleVersion: string, phase: Phase, logger: Logger) {
    this.#cluster = cluster;
    this.#queries = new QueryClients(cluster);
    this.#phase = phase;
    this.#logger = logger;
  }

  get isReady(): boolean {
    const primaries = this.#cluster.masters;
    return this.#phase.name !== 'closed' && this.#cluster.isOpen && primaries.length > 0 && primaries.every((p) => p.client?.isReady === true);
  }

  async sendCommand(args: readonly string[], options: CommandOptions = {}): Promise<RespValue> {
    try {
      const name = (args[0] ?? '').toUpperCase();
      if (EACH_ARG_A_KEY.has(name) && args.length > 2) return await this.#perKey(name, args.slice(1), options);
      if (name === 'SCAN') return await this.#scanStep(args);
      const key = routingKey(args);
      const typed = commandTypeMapping(options);
      const send = (cluster: Cluster) => cluster.sendCommand(key, false, [...args], typed) as Promise<unknown>;
      const reply = QUERY_COMMANDS.has(name) ? await this.#queries.run(send) : await send(this.#cluster);
      return reply as RespValue;
    } catch (error) {
      if (isErrorReply(error) || error instanceof GatewayError) throw error;
      throw this.#unavailable(error);
    }
  }

  /** The primaries, one handle each, for keyspace-wide reads (see scanKeys in database.ts). */
  async primaries(): Promise<Array<Pick<Database, 'sendCommand'>>> {
    return this.#sortedPrimaries().map((primary) => ({ sendCommand: (args: readonly string[]) => this.#sendTo(this.#cluster, primary, args) }));
  }

  /**
   * Every node, primaries (sorted) then replicas, with the gateway's own connection to
   * it, for work each node needs separately: ACL users are not replicated
   * (TENANT_ISOLATION=acl). Replicas are found with a client of their own, since
   * queries go to primaries only; it reads the layout again when the primaries changed
   * or it is older than a minute (replicas come and go without the gateway noticing).
   */
  async everyNode(): Promise<Array<Pick<Database, 'sendCommand' | 'address'> & { primary: boolean }>> {
    const pending = this.#all;
    const known = pending === undefined ? undefined : await pending.catch(() => undefined);
    const stale = known !== undefined && (Date.now() - this.#allSince > LAYOUT_MAX_AGE_MS || this.#cluster.masters.some((m) => !known.masters.some((k) => k.address === m.address)));
    if (stale && this.#all === pending) {
      this.#all = undefined;
      // Calls in flight on the old connections finish first.
      setTimeout(() => known.destroy(), 10_000).unref();
    }
    if (this.#all === undefined) this.#allSince = Date.now();
    this.#all ??= (async () => {
      const all = this.#cluster.duplicate({ useReplicas: true, minimizeConnections: true });
      all.on('error', () => {});
      all.on('node-error', () => {});
      await all.connect();
      if (this.#phase.name === 'closed') all.destroy();
      return all;
    })();
    this.#all.catch(() => (this.#all = undefined));
    const all = await this.#all.catch((error: unknown) => {
      throw this.#unavailable(error);
    });
    const byAddress = (a: { address: string }, b: { address: string }) => a.address.localeCompare(b.address);
    const primaries = new Set(all.masters);
    return [...[...all.masters].sort(byAddress), ...[...all.replicas].sort(byAddress)].map((node) => ({
      address: node.address,
      primary: primaries.has(node),
      sendCommand: (args: readonly string[]) => this.#sendTo(all, node, args),
    }));
  }

  /** Runs one command on one node of `cluster` (no redirection). */
  async #sendTo(cluster: Cluster, node: Parameters<Cluster['nodeClient']>[0], args: readonly string[]): Promise<RespValue> {
    try {
      return (await (await cluster.nodeClient(node)).sendCommand([...args])) as RespValue;
    } catch (error) {
      if (isErrorReply(error)) throw error;
      throw this.#unavailable(error);
    }
  }

  async ping(timeoutMs: number): Promise<number> {
    const started = performance.now();
    const controller = new AbortController();
    const timeout = sleep(timeoutMs, undefined, { signal: controller.signal }).then(() => {
      throw new GatewayError('DATABASE_UNREACHABLE', `The FalkorDB ${this.address} did not answer PING on every primary within ${timeoutMs} ms.`, { address: this.address });
    });
    try {
      // Ready means every shard answers: a graph can live on any of them.
      const all = this.primaries().then((nodes) => Promise.all(nodes.map((node) => node.sendCommand(['PING']))));
      await Promise.race([all, timeout]);
      return performance.now() - started;
    } finally {
      controller.abort();
      timeout.catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.#phase.name === 'closed') return;
    this.#phase.name = 'closed';
    this.#queries.destroy();
    void this.#all?.then((all) => all.destroy(), () => undefined);
    try {
      await this.#cluster.close();
    } catch (error) {
      this.#logger.debug({ reason: describeConnectFailure(error).reason }, 'closing the FalkorDB cluster connections failed');
      this.#cluster.destroy();
    }
  }

  #sortedPrimaries() {
    return [...this.#cluster.masters].sort((a, b) => a.address.localeCompare(b.address));
  }

  // MGET, DEL, EXISTS, … over keys that may hash to different slots: one command
  // per key, all sent at once (so still about one round trip), answers combined.
  async #perKey(name: string, keys: readonly string[], options: CommandOptions): Promise<RespValue> {
    const single = name === 'MGET' ? 'GET' : name;
    const replies = await Promise.all(keys.map((key) => this.sendCommand([single, key], options)));
    if (name === 'MGET') return replies;
    return replies.reduce<number>((sum, reply) => sum + Number(reply), 0);
  }

  // SCAN for callers that page with a cursor: every primary in turn (see cluster-routing.ts).
  async #scanStep(args: readonly string[]): Promise<RespValue> {
    const at = parseClusterScanCursor(args[1] ?? '0');
    if (at === undefined) throw new ErrorReply('ERR invalid cursor');
    const nodes = await this.primaries();
    if (at.primary >= nodes.length) return ['0', []];
    const reply = await nodes[at.primary]!.sendCommand(['SCAN', at.cursor, ...args.slice(2)]);
    const [next, keys] = Array.isArray(reply) ? reply : ['0', []];
    return [nextClusterScanCursor(at.primary, String(next), nodes.length), keys ?? []];
  }

  #unavailable(error: unknown): GatewayError {
    const state =
      this.#phase.name === 'closed' ? 'the gateway closed its connections'
      : (error as Error | null)?.name === 'ClientOfflineError' ? 'a node is not connected; reconnecting'
      : `a connection failed (${describeConnectFailure(error).reason}); reconnecting`;
    return new GatewayError('DATABASE_UNREACHABLE', `The FalkorDB ${this.address} is unavailable: ${state}. Try again shortly.`, { address: this.address });
  }
}
