// `tenant move`: copies every graph of a tenant to another database while its
// callers go on, then switches its placement in one record write. The copy runs
// under a lease in the tenant's record (src/state/tenants.ts) that every instance's
// placement guard reads (src/placement.ts): while copying, each write notes its
// graph, so it is copied again; during the switch-over writes are refused for a
// moment, reads go on. Until the switch the source is never changed, and what the
// move wrote on the target sits under scratch keys no tenant can reach.

import { setTimeout as sleep } from 'node:timers/promises';
import { createCacheVersions } from '../cache/versions.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { scanKeys, type Database } from '../falkordb/database.js';
import type { GraphClient } from '../falkordb/graphs.js';
import { stateKeys } from '../state/keys.js';
import type { StateStore } from '../state/store.js';
import { activeMove, type TenantRegistry } from '../state/tenants.js';
import { tenantGraphKey, tenantGraphsAmong, tenantKeyPrefix } from '../tenancy/keys.js';
import { exportGraphSnapshot, selectGraphs, type GraphSummary } from './export.js';
import { DEFAULT_LOAD_BATCH, GraphLoader } from './load-graph.js';
import { newTransferRunId, scratchGraphKey, scratchProbeKey, scratchRunPattern } from './scratch-key.js';
import { copyGraph, dropGraph } from './server.js';

/**
 * How long the move holds the tenant without renewing: a killed move's writes pause
 * resumes by itself at most this long after. Renewed every third of it.
 */
export const MOVE_LEASE_MS = 15_000;
/** The age limit of every instance's view of a tenant record (AccessPolicy's cacheMs), with margin for the change stream. */
const POLICY_PROPAGATION_MS = 1_500;
/** Network, the client's grace beyond FalkorDB's TIMEOUT, a busy server. */
const IN_FLIGHT_SLACK_MS = 3_000;

/**
 * How long to wait after a change of the move's record before relying on it. Every instance sees
 * the change within POLICY_PROPAGATION_MS; but a write its guard let through just before may still
 * be running, unnoted (before the copy) or noted but not yet written (before the second pass), and
 * FalkorDB stops a write only at its TIMEOUT_MAX, QUERY_TIMEOUT_MS (DATABASE_LIMITS sets it).
 */
export function settleMs(queryTimeoutMs: number): number {
  return POLICY_PROPAGATION_MS + queryTimeoutMs + IN_FLIGHT_SLACK_MS;
}

/**
 * The second pass, from the graphs copied first, those the source has now, and those written
 * during the copy: which to copy again (written, or new) and which scratch copies to drop (gone).
 */
export function recopyPlan(copied: readonly string[], current: readonly string[], written: readonly string[]): { copy: string[]; drop: string[] } {
  const before = new Set(copied);
  const touched = new Set(written);
  const now = new Set(current);
  return {
    copy: [...now].filter((g) => touched.has(g) || !before.has(g)).sort(),
    drop: [...before].filter((g) => !now.has(g)).sort(),
  };
}

export interface MoveEnd {
  /** A target name, or `default` for the shared database. */
  name: string;
  db: Database;
  graphs: GraphClient;
}

export interface MoveOptions {
  tenants: TenantRegistry;
  /** The shared state, where writes note their graphs during the copy. */
  store: StateStore;
  tenant: string;
  from: MoveEnd;
  to: MoveEnd;
  /** Where the tenant's record places it now (the source), and after the switch (the target): a target's name, undefined for the shared database. */
  fromPlacement: string | undefined;
  placement: string | undefined;
  queryTimeoutMs: number;
  progress?: ((message: string) => void) | undefined;
}

export interface MoveSummary {
  tenant: string;
  from: string;
  to: string;
  graphs: GraphSummary[];
  nodes: number;
  relationships: number;
  /** From the switch-over's start to the switch: how long writes were refused (each instance sees both within a second). */
  writesPausedMs: number;
  tookMs: number;
  /** Graphs of the tenant found on the target before the move, left there by an earlier one that failed; dropped. */
  leftovers: string[];
  /** Set when the switch was made but the old copies could not all be deleted: why, and what is left. */
  cleanupFailed?: string;
}

/** Keeps the move's lease alive; a renewal refused (the move lost) or one missed too long is kept as `lost`. */
class Lease {
  #until: number;
  #lost: GatewayError | undefined;
  #renewing: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly options: MoveOptions, private readonly moveId: string, until: number) {
    this.#until = until;
    this.#timer = setInterval(() => {
      this.#renewing = this.renew().catch((error: unknown) => {
        if (isGatewayError(error) && error.code === 'TENANT_MOVE_LOST') this.#lost = error;
      });
    }, MOVE_LEASE_MS / 3);
  }

  async renew(): Promise<void> {
    const until = Date.now() + MOVE_LEASE_MS;
    await this.options.tenants.updateMove(this.options.tenant, this.moveId, { until });
    this.#until = until;
  }

  /** Throws once the lease is gone, or about to be (instances' clocks may run a little ahead). */
  assertHeld(): void {
    if (this.#lost === undefined && this.#until - Date.now() < MOVE_LEASE_MS / 3) {
      this.#lost = new GatewayError('TENANT_MOVE_LOST', `The move of tenant "${this.options.tenant}" could not renew its lease in time (is the shared database slow or unreachable?); nothing was switched. Run \`tenant move\` again.`);
    }
    if (this.#lost !== undefined) throw this.#lost;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#renewing;
  }
}

/** Refuses a target that is the source under another name: the move would delete the graphs it copied. */
async function assertDistinct(options: MoveOptions, runId: string): Promise<void> {
  const probe = scratchProbeKey(runId);
  await options.to.db.sendCommand(['SET', probe, '1', 'PX', '60000']);
  try {
    if (Number(await options.from.db.sendCommand(['EXISTS', probe])) > 0) {
      throw new GatewayError('STATE_CONFLICT', `Nothing was moved: ${options.to.name} and ${options.from.name} are the same database server (check DATABASE_TARGET_…_URL); tenant "${options.tenant}" is there already.`);
    }
  } finally {
    await options.to.db.sendCommand(['DEL', probe]);
  }
}

/** Scratch graphs of the tenant's last move, if it was killed: its record still names it, run out. */
async function dropStaleScratch(options: MoveOptions, staleMoveId: string | undefined): Promise<void> {
  if (staleMoveId === undefined || !/^[0-9a-f]{16}$/.test(staleMoveId)) return;
  for (const end of [options.from, options.to]) {
    const keys = await scanKeys(end.db, { match: scratchRunPattern(staleMoveId), type: 'graphdata' });
    if (keys.length > 0) options.progress?.(`dropping ${keys.length} scratch graph(s) an earlier, stopped move left on ${end.name}`);
    for (const key of keys) await dropGraph(end.db, key);
  }
}

/** Copies one graph of the source into its scratch key on the target (replacing an earlier copy there). */
async function copyToScratch(options: MoveOptions, runId: string, graph: string): Promise<GraphSummary> {
  const scratch = scratchGraphKey(runId, tenantGraphKey(options.tenant, graph));
  await dropGraph(options.to.db, scratch);
  options.progress?.(`graph "${graph}": copying to ${options.to.name}`);
  const loader = new GraphLoader(options.to.db, scratch, graph, DEFAULT_LOAD_BATCH);
  await loader.start();
  let line = 0;
  const summary = await exportGraphSnapshot(
    {
      db: options.from.db,
      tenant: options.tenant,
      progress: options.progress,
      write: async (record) => {
        line += 1;
        if (record.kind === 'graph-end') await loader.finish(record);
        else await loader.add(line, record);
      },
    },
    graph,
    runId,
  );
  options.progress?.(`graph "${graph}": ${summary.nodes} nodes, ${summary.relationships} relationships copied`);
  return summary;
}

const wait = (options: MoveOptions, why: string) => {
  const ms = settleMs(options.queryTimeoutMs);
  options.progress?.(`waiting ${(ms / 1000).toFixed(1)} s ${why}`);
  return sleep(ms);
};

/** How often the switch-over reads the count of the tenant's writes under way. */
const WRITES_POLL_MS = 100;

/**
 * The switch-over's wait: every instance sees it within POLICY_PROPAGATION_MS, and from then on no write
 * starts; each write the copy phase let through counted itself (stateKeys.moveWrites) before it ran and
 * uncounts itself before its result goes back, so once the count is 0 every write that can still be
 * acknowledged has reached the source. A count that stays up (an instance that died mid-write) is waited
 * out for as long as settleMs says, as without a count.
 */
async function writesEnded(options: MoveOptions, runId: string): Promise<void> {
  const { store, tenant } = options;
  const started = Date.now();
  const latest = started + settleMs(options.queryTimeoutMs);
  options.progress?.(`waiting for the writes under way to end (at most ${((latest - started) / 1000).toFixed(1)} s)`);
  await sleep(POLICY_PROPAGATION_MS);
  const key = stateKeys.moveWrites(tenant, runId);
  while (Date.now() < latest) {
    // A count that cannot be read says nothing: wait on.
    const count = await store.get(key).then((value) => Number(value ?? '0'), () => Number.NaN);
    if (count <= 0) return;
    await sleep(WRITES_POLL_MS);
  }
}

export async function moveTenant(options: MoveOptions): Promise<MoveSummary> {
  const { tenant, tenants, from, to } = options;
  const started = Date.now();
  const runId = newTransferRunId();
  const record = await tenants.mustGet(tenant);
  await assertDistinct(options, runId);
  const stale = record.move !== undefined && activeMove(record, Date.now()) === undefined ? record.move.id : undefined;

  const begun = await tenants.beginMove(tenant, options.placement, runId, Date.now() + MOVE_LEASE_MS);
  const lease = new Lease(options, runId, Date.now() + MOVE_LEASE_MS);
  if (begun.database !== options.fromPlacement) {
    // Switched by another move since the command read the record: its graphs on the target are live, not leftovers.
    await lease.stop();
    await tenants.updateMove(tenant, runId, { abandon: true }).catch(() => undefined);
    throw new GatewayError('STATE_CONFLICT', `Tenant "${tenant}" was moved to ${begun.database ?? 'default'} by another command just now; nothing was moved. See \`tenant show ${tenant}\`.`);
  }
  options.progress?.(`moving tenant "${tenant}" from ${from.name} to ${to.name} (move ${runId})`);
  const summaries = new Map<string, GraphSummary>();
  const placed: string[] = [];
  /** Before the switch: the tenant back to writing on the source, and nothing of the move left on the target. */
  const undo = async () => {
    await tenants.updateMove(tenant, runId, { abandon: true }).catch(() => undefined);
    for (const graph of placed) await dropGraph(to.db, tenantGraphKey(tenant, graph)).catch(() => undefined);
    await dropScratch(to.db, runId);
  };
  let pausedAt = Date.now();
  let leftovers: string[] = [];
  try {
    // Read while the move holds the tenant, so no other move can have put them there.
    leftovers = tenantGraphsAmong(tenant, await to.graphs.listKeys(tenantKeyPrefix(tenant)));
    if (leftovers.length > 0) {
      options.progress?.(`${to.name} holds ${leftovers.length} graph(s) of tenant "${tenant}" (${leftovers.join(', ')}) left by an earlier move that failed; the tenant never used them, and they are replaced at the switch-over`);
    }
    await dropStaleScratch(options, stale);
    await wait(options, 'until every gateway instance notes the writes of the tenant');
    lease.assertHeld();
    const copied = await selectGraphs(from.graphs, tenant, undefined);
    for (const graph of copied) {
      summaries.set(graph, await copyToScratch(options, runId, graph));
      lease.assertHeld();
    }

    await tenants.updateMove(tenant, runId, { phase: 'switching' });
    pausedAt = Date.now();
    options.progress?.(`switching over: writes of tenant "${tenant}" are refused (TENANT_MOVING, retryable) until the switch; reads go on`);
    await writesEnded(options, runId);
    lease.assertHeld();
    const written = tenantGraphsAmong(tenant, await options.store.smembers(stateKeys.moveChanges(tenant, runId)));
    const current = await selectGraphs(from.graphs, tenant, undefined);
    const plan = recopyPlan(copied, current, written);
    for (const graph of plan.drop) {
      summaries.delete(graph);
      await dropGraph(to.db, scratchGraphKey(runId, tenantGraphKey(tenant, graph)));
    }
    for (const graph of plan.copy) {
      summaries.set(graph, await copyToScratch(options, runId, graph));
      lease.assertHeld();
    }
    for (const graph of leftovers) await dropGraph(to.db, tenantGraphKey(tenant, graph));
    for (const graph of current) {
      const key = tenantGraphKey(tenant, graph);
      await copyGraph(to.db, scratchGraphKey(runId, key), key, `Copying graph "${graph}" into place on ${to.name}`);
      placed.push(graph);
    }
    await dropScratch(to.db, runId);
    await createCacheVersions(to.db).bump(tenant, [...new Set([...current, ...leftovers])], true);
    await lease.stop();
    // Renewed once more right before the switch: an instance whose clock runs ahead must not see the lease run out first.
    await lease.renew();
  } catch (error) {
    await lease.stop();
    await undo();
    throw error;
  }

  try {
    await tenants.updateMove(tenant, runId, { done: true, database: options.placement });
  } catch (error) {
    const now = await tenants.get(tenant).catch(() => null);
    if (now === null) {
      throw new GatewayError('TENANT_MOVE_LOST', `Switching tenant "${tenant}" to ${to.name} failed (${error instanceof Error ? error.message : String(error)}), and whether it was written cannot be read now; see \`tenant show ${tenant}\`. If it still names ${from.name}, run \`tenant move\` again (it replaces what this one left on ${to.name}).`, {}, { cause: error });
    }
    // Written, its reply lost: the move stands.
    if (now === undefined || now.database !== options.placement || now.move !== undefined) {
      await undo();
      throw error;
    }
  }
  const writesPausedMs = Date.now() - pausedAt;
  options.progress?.(`switched: every gateway instance serves tenant "${tenant}" from ${to.name} within 1 s`);

  await wait(options, `until reads still running on ${from.name} have ended`);
  let cleanupFailed: string | undefined;
  try {
    const old = await from.graphs.listKeys(tenantKeyPrefix(tenant));
    for (const key of old) await dropGraph(from.db, key);
    await createCacheVersions(from.db).bump(tenant, tenantGraphsAmong(tenant, old), true);
    await options.store.del(stateKeys.moveChanges(tenant, runId), stateKeys.moveWrites(tenant, runId));
    options.progress?.(`deleted the ${old.length} graph(s) of tenant "${tenant}" on ${from.name}`);
  } catch (error) {
    // The tenant is served from the target already; what is left on the source is never read again.
    cleanupFailed = `deleting its graphs on ${from.name} failed (${error instanceof Error ? error.message : String(error)}); the tenant no longer uses them. A later \`tenant move\` back to ${from.name} replaces them, or delete them there with GRAPH.DELETE.`;
  }

  const graphs = [...summaries.values()].sort((a, b) => a.name.localeCompare(b.name));
  return {
    tenant,
    from: from.name,
    to: to.name,
    graphs,
    nodes: graphs.reduce((n, g) => n + g.nodes, 0),
    relationships: graphs.reduce((n, g) => n + g.relationships, 0),
    writesPausedMs,
    tookMs: Date.now() - started,
    leftovers,
    ...(cleanupFailed === undefined ? {} : { cleanupFailed }),
  };
}

/** Every scratch graph of run `runId` on `db`. */
async function dropScratch(db: Database, runId: string): Promise<void> {
  for (const key of await scanKeys(db, { match: scratchRunPattern(runId), type: 'graphdata' })) await dropGraph(db, key).catch(() => undefined);
}
