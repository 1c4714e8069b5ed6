// FalkorDB's own limits (db-limits.ts) on every server the gateway sends queries to,
// after start-up too: a read replica that joins or restarts, a primary Sentinel
// promotes, a cluster node that comes back. GRAPH.CONFIG SET is per server, not
// replicated, and gone after a restart, so each of them is set (or checked) again.

import type { Logger } from '../logger.js';
import { ClusterDatabase } from './cluster-database.js';
import type { Database } from './database.js';
import { limitsOn, missingLimitsMessage, type DatabaseLimit, type DatabaseLimitsMode, type LimitNode } from './db-limits.js';
import { replicaNodesOf } from './replicas.js';

/** Reads `INFO server`'s run_id, which changes when the server restarts; undefined when it cannot be read. */
export async function serverRunId(node: Pick<Database, 'sendCommand'>): Promise<string | undefined> {
  try {
    return /^run_id:(\w+)/m.exec(String(await node.sendCommand(['INFO', 'server'])))?.[1];
  } catch {
    return undefined;
  }
}

export class LimitsKeeper {
  readonly #limits: readonly DatabaseLimit[];
  readonly #mode: Exclude<DatabaseLimitsMode, 'off'>;
  readonly #logger: Logger;
  /** Address → the last reason logged, so a node that stays without the limits is warned about once per change. */
  readonly #warned = new Map<string, string>();
  /** Address → run_id of the server run that has the limits (see sweep). */
  readonly #runs = new Map<string, string>();
  #sweeping: Promise<boolean> | undefined;
  #again = false;
  #startedUp = false;

  constructor(limits: readonly DatabaseLimit[], mode: Exclude<DatabaseLimitsMode, 'off'>, logger: Logger) {
    this.#limits = limits;
    this.#mode = mode;
    this.#logger = logger;
  }

  /**
   * Start-up is over: from now on a node without the limits is warned about here (during
   * start-up, ensureDatabaseLimits refuses to start with the same message instead).
   */
  startedUp(): void {
    this.#startedUp = true;
  }

  /**
   * Sets (DATABASE_LIMITS=apply) or checks the limits on one server; resolves with why it
   * lacks them, logged as a warning with the commands to run, or undefined when it has them.
   */
  async admit(node: Pick<Database, 'sendCommand'>, address: string): Promise<string | undefined> {
    let lack;
    try {
      lack = await limitsOn(node, this.#limits, this.#mode, this.#logger, address);
    } catch (error) {
      return `its limits could not be read (${error instanceof Error ? error.message : String(error)})`;
    }
    if (lack.missing.length === 0) {
      if (this.#warned.delete(address)) this.#logger.info({ node: address }, 'FalkorDB server has the limits the gateway needs again');
      return undefined;
    }
    const reason = `it lacks FalkorDB limits (${lack.missing.map((l) => l.name).join(', ')}): ${lack.why}`;
    if (this.#startedUp && this.#warned.get(address) !== reason) {
      this.#logger.warn({ node: address, settings: lack.missing.map((l) => l.name) }, missingLimitsMessage(address, lack));
    }
    this.#warned.set(address, reason);
    return reason;
  }

  /**
   * Admits every node whose server restarted (a new run_id) or was never admitted. Calls
   * that arrive while a sweep runs make one more sweep after it, never two at once.
   * Resolves false when a node did not answer (the caller may sweep again soon).
   */
  sweep(nodes: () => Promise<readonly LimitNode[]>): Promise<boolean> {
    if (this.#sweeping !== undefined) {
      this.#again = true;
      return this.#sweeping;
    }
    this.#sweeping = (async () => {
      let answered = true;
      do {
        this.#again = false;
        answered = true;
        let list: readonly LimitNode[];
        try {
          list = await nodes();
        } catch (error) {
          this.#logger.debug({ reason: error instanceof Error ? error.message : String(error) }, 'could not list the FalkorDB nodes to check their limits');
          return false;
        }
        for (const { address, node } of list) {
          const run = await serverRunId(node);
          if (run === undefined) {
            // Not reachable (yet): its connection may still be reconnecting.
            answered = false;
            this.#runs.delete(address);
            continue;
          }
          if (this.#runs.get(address) === run) continue;
          if ((await this.admit(node, address)) === undefined) this.#runs.set(address, run);
          else this.#runs.delete(address);
        }
      } while (this.#again);
      return answered;
    })().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }
}

/**
 * Every server `db` sends queries to now, each with the gateway's own connection to it:
 * the server alone, or the primary the sentinels name; the primary and each connected read
 * replica; every node of a cluster, replicas included (a failover makes one a primary).
 */
export async function limitNodesOf(db: Database): Promise<LimitNode[]> {
  const router = replicaNodesOf(db);
  if (router !== undefined) {
    const { primary, replicas } = router.nodes();
    return [{ address: primary.address, node: primary }, ...replicas.flatMap((r) => (r.db?.isReady === true ? [{ address: r.address, node: r.db }] : []))];
  }
  if (db instanceof ClusterDatabase) return (await db.everyNode()).map((node) => ({ address: node.address, node }));
  return [{ address: db.address, node: db }];
}
