// Where each tenant's graphs live: the shared database (FALKORDB_URL and the
// rest), or one of DATABASE_TARGETS, as the tenant's record says. Opens each
// target on first use, builds one stack of graph operations per database (its
// own cache, caps and tenant users), and routes every caller's operations to
// its tenant's. The gateway's own state stays on the shared database.

import { ConcurrencyGate } from './admission/concurrency.js';
import { StorageQuota } from './admission/storage-quota.js';
import type { AccessPolicy } from './auth/access-policy.js';
import { createGraphCache } from './cache/graph-cache.js';
import { DEFAULT_TARGET, targetVariablePrefix, type Config } from './config/index.js';
import { GatewayError } from './errors.js';
import { openTenantIsolation } from './falkordb/acl.js';
import type { Database } from './falkordb/database.js';
import { GraphClient } from './falkordb/graphs.js';
import { openDatabase, type OpenedDatabase, type OpenOptions } from './falkordb/open.js';
import type { GatewayState } from './gateway-state.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './observability/metrics.js';
import { stateKeys } from './state/keys.js';
import { activeMove, type TenantRecord } from './state/tenants.js';
import type { Principal } from './tenancy/principal.js';
import { createGraphAccess, routedGraphAccess, type GraphAccess, type PlacementGuard } from './tools/graph-access.js';

/** A target's name as the tenant record has it: undefined for the shared database. */
export type Placement = string | undefined;

/** How long a failed attempt to reach a target answers calls for it at once, before the next attempt. */
const TARGET_RETRY_MS = 5_000;
/** How long the graphs a move's writes noted are kept, should the move's command die. */
const MOVE_CHANGES_TTL_MS = 24 * 3600 * 1000;

/** The configuration with `name`'s database in place of the shared one (the name must be in config.targets). */
export function targetConfig(config: Config, name: string): Config {
  const target = config.targets[name];
  if (target === undefined) throw unknownTarget(config, name);
  return { ...config, falkordb: { ...config.falkordb, ...target } };
}

export function unknownTarget(config: Config, name: string): GatewayError {
  const known = Object.keys(config.targets);
  return new GatewayError(
    'DATABASE_TARGET_UNKNOWN',
    `There is no database target "${name}" in this configuration (DATABASE_TARGETS ${known.length === 0 ? 'is unset' : `names ${known.join(', ')}`}); add it there, with its ${targetVariablePrefix(name)}URL, on every instance and for the CLI.`,
    { target: name },
  );
}

/**
 * The databases of DATABASE_TARGETS, each opened when first needed and kept open; one that
 * cannot be reached is tried again on a call after TARGET_RETRY_MS, and fails the calls
 * in between at once (as DATABASE_UNREACHABLE) rather than making each wait its connect timeout.
 */
export class TargetDatabases {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #options: OpenOptions;
  readonly #opened = new Map<string, Promise<OpenedDatabase>>();
  /** The targets reached, for readiness: an attempt still under way is not waited for there. */
  readonly #reached = new Map<string, OpenedDatabase>();
  readonly #failed = new Map<string, { at: number; error: unknown }>();

  constructor(config: Config, logger: Logger, options: OpenOptions = {}) {
    this.#config = config;
    this.#logger = logger;
    this.#options = options;
  }

  get names(): string[] {
    return Object.keys(this.#config.targets);
  }

  /** The target's database, opening it on first use; throws DATABASE_TARGET_UNKNOWN for a name not configured. */
  open(name: string): Promise<OpenedDatabase> {
    const failed = this.#failed.get(name);
    const existing = this.#opened.get(name);
    // Once a target has failed, each later attempt runs in the background: the calls meanwhile fail at once
    // with the last failure, instead of each waiting out the attempt's connect timeout.
    if (existing !== undefined) return failed === undefined ? existing : Promise.reject(failed.error);
    if (failed !== undefined && Date.now() - failed.at < TARGET_RETRY_MS) return Promise.reject(failed.error);
    const opening = (async () => openDatabase(targetConfig(this.#config, name), this.#logger.child({ target: name }), { ...this.#options, allowInstall: false }))();
    this.#opened.set(name, opening);
    opening.then(
      (opened) => {
        this.#failed.delete(name);
        this.#reached.set(name, opened);
        this.#logger.info({ target: name, database: opened.description }, 'database target connected');
      },
      (error: unknown) => {
        this.#opened.delete(name);
        this.#failed.set(name, { at: Date.now(), error });
        this.#logger.error({ target: name, err: error instanceof Error ? error.message : String(error) }, 'database target could not be reached; calls of the tenants placed on it fail until it answers');
      },
    );
    return failed === undefined ? opening : Promise.reject(failed.error);
  }

  /** The targets opened so far, for readiness and the metrics; one still being reached is not among them, nor waited for. */
  connected(): Promise<Array<{ name: string; db: Database }>> {
    return Promise.resolve([...this.#reached].map(([name, opened]) => ({ name, db: opened.db })));
  }

  async close(): Promise<void> {
    const all = [...this.#opened.values()];
    this.#opened.clear();
    this.#reached.clear();
    await Promise.all(all.map((opening) => opening.then((opened) => opened.close(), () => undefined)));
  }
}

function moved(): GatewayError {
  return new GatewayError('TENANT_MOVING', 'Your graphs were moved to another database just now; nothing was done. Send the call again.', { retryAfterSec: '1' });
}

function notNoted(cause: unknown): GatewayError {
  return new GatewayError('TENANT_MOVING', 'Your graphs are being moved to another database, and this write could not be noted for the move; nothing was written. Send the call again shortly.', { retryAfterSec: '2' }, { cause });
}

function switching(): GatewayError {
  return new GatewayError('TENANT_MOVING', 'Your graphs are being moved to another database, and writes are paused for a few seconds while it switches over; nothing was written. Send the call again shortly (reads keep working).', { retryAfterSec: '2' });
}

/**
 * Layer 3 of the stack of `target`: the caller's tenant must still be placed there; during a move, a write
 * first notes its graph in the shared state (so the move copies it again), and during the switch-over is refused.
 */
function placementGuard(target: Placement, placementOf: (principal: Principal) => Promise<Pick<TenantRecord, 'database' | 'move'>>, state: GatewayState, now: () => number = Date.now): PlacementGuard {
  const current = async (principal: Principal) => {
    const placement = await placementOf(principal);
    if (placement.database !== target) throw moved();
    return placement;
  };
  return {
    beforeRead: async (principal) => {
      await current(principal);
    },
    beforeWrite: async (principal, key) => {
      const move = activeMove(await current(principal), now());
      if (move === undefined) return undefined;
      if (move.phase === 'switching') throw switching();
      // Counted first, then checked again: a write that still finds the copy phase after counting itself was
      // counted less than the policy's second after the switch-over began, which waits for the count to reach 0.
      const { store } = state;
      const writes = stateKeys.moveWrites(principal.tenant, move.id);
      const changes = stateKeys.moveChanges(principal.tenant, move.id);
      const ttl = String(MOVE_CHANGES_TTL_MS);
      const ended = () => store.command(['DECR', writes]).then(() => undefined, () => undefined);
      try {
        await store.command(['INCR', writes]);
      } catch (error) {
        throw notNoted(error);
      }
      try {
        await store.command(['PEXPIRE', writes, ttl]);
        // A write the move might not see again is not let through.
        await store.command(['SADD', changes, key]);
        await store.command(['PEXPIRE', changes, ttl]);
      } catch (error) {
        await ended();
        throw notNoted(error);
      }
      const still = activeMove(await current(principal).catch(async (error: unknown) => {
        await ended();
        throw error;
      }), now());
      if (still === undefined) {
        // The move ended without a switch (abandoned, or run out): a write like any other.
        await ended();
        return undefined;
      }
      if (still.id !== move.id || still.phase !== 'copying') {
        await ended();
        throw switching();
      }
      return ended;
    },
  };
}

export interface OpenedGraphAccess {
  graphAccess: GraphAccess;
  /** The targets this instance has reached (opened on first use). */
  targets: TargetDatabases;
  /** Closes the tenant users' connections (TENANT_ISOLATION=acl) and the targets' databases. */
  close(): Promise<void>;
}

export interface GraphAccessOptions {
  config: Config;
  /** The shared database (the gateway's own state lives there too). */
  database: Database;
  logger: Logger;
  metrics: Pick<GatewayMetrics, 'cacheLookup'>;
  state: GatewayState;
  policy: Pick<AccessPolicy, 'placement'>;
  /** The shared database's query caps, absent for stdio's one caller; each target gets caps of its own, of the same size. */
  concurrency?: ConcurrencyGate | undefined;
  /** How targets are opened: the gateway applies DATABASE_LIMITS to them as to the shared database. */
  targetOptions?: OpenOptions;
}

/**
 * The graph operations of every caller, for the gateway and stdio alike: for each database, what
 * its layers need (the graph cache, whose version tokens let instances sharing the database see
 * each other's writes; with TENANT_ISOLATION=acl the tenant users' connections, after checking the
 * gateway's own rights there, a missing one stopping start-up or failing the target) in the order
 * createGraphAccess gives them; and in front, the routing to the tenant's database.
 */
export async function openGraphAccess(options: GraphAccessOptions): Promise<OpenedGraphAccess> {
  const { config, logger, metrics, state, policy } = options;
  const targets = new TargetDatabases(config, logger, options.targetOptions);
  const closers: Array<() => Promise<void>> = [];

  const stackFor = async (target: Placement, database: Database, concurrency: ConcurrencyGate | undefined): Promise<GraphAccess> => {
    const replicaLagMs = (target === undefined ? config.falkordb.replicaUrls : (config.targets[target]?.replicaUrls ?? [])).length > 0 ? config.falkordb.readAfterWriteMs : 0;
    const cache = createGraphCache({ database, config: config.cache, metrics, logger, replicaLagMs });
    const own = target === undefined ? config : targetConfig(config, target);
    const isolation = config.isolation.mode === 'acl' ? await openTenantIsolation(own, database, logger) : undefined;
    if (isolation !== undefined) closers.push(() => isolation.close());
    const graphs = new GraphClient(database);
    return createGraphAccess({
      graphs,
      tenantConnections: isolation?.connections,
      cache,
      concurrency,
      storage: new StorageQuota({ graphs, tenants: state.tenants, limits: config.limits }),
      placement: placementGuard(target, (principal) => policy.placement(principal), state),
    });
  };

  const shared = await stackFor(undefined, options.database, options.concurrency);
  const stacks = new Map<string, Promise<GraphAccess>>();
  const stackOf = (target: Placement): GraphAccess | Promise<GraphAccess> => {
    if (target === undefined || target === DEFAULT_TARGET) return shared;
    const existing = stacks.get(target);
    if (existing !== undefined) return existing;
    if (config.targets[target] === undefined) {
      logger.error({ target }, 'a tenant is placed on a database target this instance has no configuration for; its calls fail until DATABASE_TARGETS names it');
      throw unknownTarget(config, target);
    }
    const made = targets.open(target).then((opened) => stackFor(target, opened.db, options.concurrency === undefined ? undefined : new ConcurrencyGate(config.limits)));
    stacks.set(target, made);
    made.catch(() => stacks.delete(target));
    return made;
  };

  return {
    graphAccess: routedGraphAccess(stackOf, async (principal) => (await policy.placement(principal)).database, options.database),
    targets,
    close: async () => {
      for (const close of closers) await close().catch(() => undefined);
      await targets.close();
    },
  };
}
