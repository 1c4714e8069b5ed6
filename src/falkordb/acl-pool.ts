// Connections logged in as the tenants' database users (TENANT_ISOLATION=acl): a
// bounded LRU pool, so many tenants do not mean as many open connections. An
// evicted tenant's connections close once its calls in flight have finished; its
// next call opens new ones. With read replicas, a tenant's command runs where the
// gateway's replica router sends it, on a connection of the tenant's user there. On
// a cluster each pooled connection is a cluster client of the tenant's user (one
// connection per primary).
//
// One file over 300 lines: the pool, its eviction and the connector of each topology
// share the pooled entries' life cycle.

import { createClient, createCluster, ErrorReply, type RedisClusterOptions } from '@redis/client';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TenantUsers } from './acl-users.js';
import { routingKey } from './cluster-routing.js';
import { describeConnectFailure, redactAddress } from './connection.js';
import type { CommandOptions, Database, RespValue } from './database.js';
import type { ReplicaRouter } from './replicas.js';
import { GraphClient } from './graphs.js';
import { commandTypeMapping } from './reply-guard.js';

export interface TenantPoolOptions {
  /** The server, without credentials: `redis://host:port`, `rediss://…` or a unix socket path (on a cluster, shown in messages only). */
  endpoint: string;
  /**
   * On a cluster: its seeds, with the gateway's own credentials, which are used only
   * to read the slot map (CLUSTER SLOTS); every command then goes to the primary that
   * owns its key, logged in as the tenant's user.
   */
  clusterSeeds?: readonly string[];
  /**
   * With read replicas: the gateway's router, which picks where each command goes
   * (read-only queries to healthy replicas, read-after-write, the rest to the
   * primary); the tenant's command then runs there on a connection of its user.
   */
  replicas?: ReplicaRouter;
  users: TenantUsers;
  /** Most connections open at once (ACL_POOL_MAX); calls in flight on evicted ones finish first. */
  maxConnections: number;
  /** Most connections one tenant gets (its queries run side by side on separate connections). */
  maxPerTenant: number;
  moduleVersion: string;
  logger: Logger;
  connectTimeoutMs?: number;
}

/** Runs a tenant's graph work on connections logged in as that tenant's database user. */
export interface TenantConnections {
  use<T>(tenant: string, work: (graphs: GraphClient) => Promise<T>): Promise<T>;
  /** Connections open now, evicted ones still finishing included. */
  readonly openConnections: number;
  close(): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** One pooled connection as a tenant's user: to one server, or a cluster client (one connection per primary). */
interface Connection {
  send(args: string[], typed: ReturnType<typeof commandTypeMapping>): Promise<unknown>;
  readonly isOpen: boolean;
  /** Server connections it holds, for the pool's bound. */
  readonly size: number;
  close(): Promise<void>;
  destroy(): void;
}

/** Opens a connection as a tenant's user to `endpoint` (ignored on a cluster). */
type Connector = (endpoint: string, username: string, password: string) => Promise<Connection>;

// The credentials come from a provider rather than the options: node-redis builds a client class per
// distinct options object (compared as JSON), which costs milliseconds of CPU; this way every tenant's
// options look alike and share one.
function credentialsOf(username: string | undefined, password: string | undefined) {
  return { type: 'async-credentials-provider' as const, credentials: () => Promise.resolve({ ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) }) };
}

/** Connections to one server; no reconnects (a dropped connection is replaced on the next call). */
function serverConnector(connectTimeout: number): Connector {
  return async (endpoint, username, password) => {
    const socket = { connectTimeout, reconnectStrategy: false as const };
    // No client name and no CLIENT SETINFO: the handshake is AUTH alone, so the user needs no CLIENT rights.
    const common = { credentialsProvider: credentialsOf(username, password), disableClientInfo: true, disableOfflineQueue: true };
    const client = endpoint.startsWith('/') ? createClient({ ...common, socket: { ...socket, path: endpoint } }) : createClient({ ...common, url: endpoint, socket });
    // Without a listener a dropped connection would crash the process; a dropped one is replaced on the next call.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (error) {
      if (client.isOpen) client.destroy();
      throw error;
    }
    return {
      send: (args, typed) => (typed === undefined ? client.sendCommand(args) : client.sendCommand(args, typed)),
      get isOpen() {
        return client.isOpen;
      },
      size: 1,
      close: () => client.close(),
      destroy: () => client.destroy(),
    };
  };
}

/**
 * Cluster clients as a tenant's user. The seeds carry the gateway's credentials, used
 * only for the slot map (a tenant user may not run CLUSTER SLOTS); the nodes' connections
 * log in as the tenant. No reconnects: a cluster client that lost a node is replaced.
 */
function clusterConnector(seeds: readonly string[], connectTimeout: number): Connector {
  const first = new URL(seeds[0]!);
  const gateway = credentialsOf(first.username === '' ? undefined : decodeURIComponent(first.username), first.password === '' ? undefined : decodeURIComponent(first.password));
  const rootNodes = seeds.map((url) => {
    const parsed = new URL(url);
    return { socket: { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) }, credentialsProvider: gateway };
  });
  const socket = { connectTimeout, reconnectStrategy: false as const, ...(first.protocol === 'rediss:' ? { tls: true as const } : {}) };
  return async (_endpoint, username, password) => {
    const defaults = { credentialsProvider: credentialsOf(username, password), disableClientInfo: true, disableOfflineQueue: true, socket };
    const cluster = createCluster({ rootNodes, useReplicas: false, defaults } as RedisClusterOptions);
    // Why a node refused (WRONGPASS) arrives only as an event; connect() just says no seed worked.
    const seen: unknown[] = [];
    const collect = (error: unknown) => seen.push(error);
    cluster.on('error', collect);
    cluster.on('node-error', () => {});
    try {
      await cluster.connect();
    } catch (error) {
      cluster.destroy();
      throw seen.find((e) => e instanceof ErrorReply && /^WRONGPASS/.test(e.message)) ?? seen.find((e) => e instanceof ErrorReply) ?? error;
    }
    cluster.off('error', collect).on('error', () => {});
    const size = Math.max(1, cluster.masters.length);
    return {
      send: (args, typed) => cluster.sendCommand(routingKey(args), false, args, typed),
      get isOpen() {
        return cluster.isOpen;
      },
      size,
      close: () => cluster.close(),
      destroy: () => cluster.destroy(),
    };
  };
}

interface Slot {
  connection: Connection;
  busy: number;
  /** Where it goes: the primary's endpoint or a replica's. */
  endpoint: string;
}

/** A server's URL without the user name and password (a replica's as the router knows it, the primary's from the configuration). */
export function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

export function createTenantConnections(options: TenantPoolOptions): TenantConnections {
  const perTenant = Math.max(1, Math.min(options.maxPerTenant, options.maxConnections));
  const timeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const connect = options.clusterSeeds === undefined ? serverConnector(timeout) : clusterConnector(options.clusterSeeds, timeout);
  const counter = { open: 0 };
  let closed = false;
  // Each entry is a fresh box around the link: the cache recounts an entry's size only when
  // it is set to a different value, and a link's size grows as it opens connections.
  const links = new LRUCache<string, { link: TenantLink }>({
    maxSize: options.maxConnections,
    sizeCalculation: ({ link }) => Math.max(1, link.size),
    dispose: ({ link }, _tenant, reason) => {
      if (reason !== 'set') link.retire();
    },
  });
  const onGrow = (tenant: string, link: TenantLink) => {
    // Setting the entry again recounts its size, which evicts the least recently used tenants beyond the bound.
    if (links.peek(tenant)?.link !== link) return;
    links.set(tenant, { link });
    // Larger than the whole bound (a cluster client with more primaries than ACL_POOL_MAX): the
    // cache dropped it, so it serves its calls in flight and closes.
    if (links.peek(tenant)?.link !== link) link.retire();
  };
  return {
    async use(tenant, work) {
      if (closed) throw new GatewayError('DATABASE_UNREACHABLE', 'The gateway is shutting down; try again on another instance.');
      await options.users.ensure(tenant);
      let link = links.get(tenant)?.link;
      if (link === undefined || link.retired) {
        const fresh = new TenantLink(tenant, options, connect, perTenant, counter, () => onGrow(tenant, fresh));
        link = fresh;
        links.set(tenant, { link });
      }
      link.refs += 1;
      try {
        return await work(link.graphs);
      } finally {
        link.release();
      }
    },
    get openConnections() {
      return counter.open;
    },
    async close() {
      closed = true;
      const all = [...links.values()];
      links.clear();
      await Promise.all(all.map(({ link }) => link.closeAll()));
    },
  };
}

function disabledInDatabase(): GatewayError {
  return new GatewayError('TENANT_DISABLED', 'Your tenant is disabled in the database; ask the operator to enable it (falkordb-mcp-gateway tenant enable).', { origin: 'database' });
}

/** One tenant's connections, seen as a Database by the GraphClient that runs its graph work. */
class TenantLink implements Database {
  readonly graphs: GraphClient;
  readonly address: string;
  readonly moduleVersion: string;
  refs = 0;
  retired = false;
  #slots: Slot[] = [];
  #opening = 0;
  readonly #first = new Map<string, Promise<Slot>>();

  constructor(
    private readonly tenant: string,
    private readonly options: TenantPoolOptions,
    private readonly connect: Connector,
    private readonly perTenant: number,
    private readonly counter: { open: number },
    private readonly grew: () => void,
  ) {
    this.address = redactAddress(options.endpoint);
    this.moduleVersion = options.moduleVersion;
    // A tenant has few graphs: a small schema-name cache (the default sizes it for every tenant at once).
    this.graphs = new GraphClient(this, { maxCachedGraphs: 64 });
  }

  get size(): number {
    return this.#slots.reduce((sum, slot) => sum + slot.connection.size, 0);
  }

  get isReady(): boolean {
    return this.#slots.some((slot) => slot.connection.isOpen);
  }

  sendCommand(args: readonly string[], options: CommandOptions = {}): Promise<RespValue> {
    const router = this.options.replicas;
    if (router === undefined) return this.#sendTo(this.options.endpoint, args, options);
    return router.routeVia(args, (replicaUrl) => this.#sendTo(replicaUrl === undefined ? this.options.endpoint : withoutCredentials(replicaUrl), args, options), options.primary === true);
  }

  async #sendTo(endpoint: string, args: readonly string[], options: CommandOptions): Promise<RespValue> {
    const slot = await this.#slot(endpoint);
    slot.busy += 1;
    try {
      return (await slot.connection.send([...args], commandTypeMapping(options))) as RespValue;
    } catch (error) {
      if (error instanceof ErrorReply) {
        if (/^NOPERM/.test(error.message)) {
          this.options.logger.error({ tenant: this.tenant, command: args[0] }, 'the database refused a command of a tenant\'s user (NOPERM): a key outside its pattern or a command outside its rights');
          throw new GatewayError('DATABASE_ACCESS_DENIED', 'The database refused this operation for your tenant (its database user may not do it). Nothing was changed; tell the operator if this persists.', { origin: 'database' });
        }
        throw error;
      }
      this.#drop(slot);
      // Turning a user off closes its connections: say so, rather than "connection lost".
      if ((await this.options.users.state(this.tenant).catch(() => undefined)) === 'off') throw disabledInDatabase();
      const address = redactAddress(endpoint);
      throw new GatewayError('DATABASE_UNREACHABLE', `FalkorDB at ${address} is unavailable: the connection of this tenant was lost (${describeConnectFailure(error).reason}). Try again.`, { address });
    } finally {
      slot.busy -= 1;
    }
  }

  async ping(timeoutMs: number): Promise<number> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GatewayError('DATABASE_UNREACHABLE', `FalkorDB at ${this.address} did not answer PING within ${timeoutMs} ms.`)), timeoutMs);
    });
    try {
      await Promise.race([this.sendCommand(['PING']), deadline]);
      return performance.now() - started;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Called by the pool's eviction: no new work comes here; the connections close once idle. */
  retire(): void {
    this.retired = true;
    if (this.refs === 0) void this.closeAll();
  }

  release(): void {
    this.refs -= 1;
    if (this.retired && this.refs === 0) void this.closeAll();
  }

  close(): Promise<void> {
    return this.closeAll();
  }

  async closeAll(): Promise<void> {
    const slots = this.#slots;
    this.#slots = [];
    await Promise.all(slots.map((slot) => this.#closeSlot(slot)));
  }

  /** An idle connection, a new one while the tenant has room, else the least busy. */
  async #slot(endpoint: string): Promise<Slot> {
    for (const slot of this.#slots.filter((s) => !s.connection.isOpen)) this.#drop(slot);
    const here = this.#slots.filter((s) => s.endpoint === endpoint);
    if (here.length === 0) {
      let first = this.#first.get(endpoint);
      if (first === undefined) {
        first = this.#open(endpoint).finally(() => this.#first.delete(endpoint));
        this.#first.set(endpoint, first);
      }
      return first;
    }
    let best = here[0]!;
    for (const slot of here) if (slot.busy < best.busy) best = slot;
    if (best.busy === 0 || this.retired || here.length + this.#opening >= this.perTenant) return best;
    this.#opening += 1;
    try {
      return await this.#open(endpoint);
    } catch {
      // A second connection is an optimisation: fall back to sharing one that works.
      return best;
    } finally {
      this.#opening -= 1;
    }
  }

  async #open(endpoint: string): Promise<Slot> {
    let connection: Connection;
    try {
      connection = await this.#connect(endpoint);
    } catch (error) {
      if (!(error instanceof ErrorReply) || !/^WRONGPASS/.test(error.message)) throw this.#unreachable(error, endpoint);
      // Refused login: the user is off, or missing (server restarted without an ACL file), or has an older password.
      const state = await this.options.users.repair(this.tenant);
      if (state === 'off') throw disabledInDatabase();
      try {
        connection = await this.#connect(endpoint);
      } catch (again) {
        throw this.#unreachable(again, endpoint);
      }
    }
    const slot: Slot = { connection, busy: 0, endpoint };
    this.#slots.push(slot);
    this.counter.open += connection.size;
    if (this.retired && this.refs === 0) void this.closeAll();
    else this.grew();
    return slot;
  }

  #connect(endpoint: string): Promise<Connection> {
    const { username, password } = this.options.users.credentials(this.tenant);
    return this.connect(endpoint, username, password);
  }

  #drop(slot: Slot): void {
    const at = this.#slots.indexOf(slot);
    if (at < 0) return;
    this.#slots.splice(at, 1);
    void this.#closeSlot(slot);
  }

  async #closeSlot(slot: Slot): Promise<void> {
    this.counter.open -= slot.connection.size;
    try {
      if (slot.connection.isOpen) await slot.connection.close();
    } catch {
      slot.connection.destroy();
    }
  }

  #unreachable(error: unknown, endpoint: string): GatewayError {
    if (error instanceof GatewayError) return error;
    const address = this.options.clusterSeeds === undefined ? redactAddress(endpoint) : this.address;
    return new GatewayError('DATABASE_UNREACHABLE', `FalkorDB at ${address} is unavailable for this tenant: ${describeConnectFailure(error).reason}. Try again shortly.`, { address });
  }
}
