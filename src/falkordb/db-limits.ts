// The limits FalkorDB itself must enforce for one tenant not to hurt the others
// (GRAPH.CONFIG): derived from the configuration, given to the embedded server
// as module arguments, and applied to or checked on an external server at start.

import os from 'node:os';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';

/** DATABASE_LIMITS: set what is missing, only check it, or neither (warned at every start). */
export type DatabaseLimitsMode = 'apply' | 'check' | 'off';

export interface DatabaseLimit {
  /** The GRAPH.CONFIG name. */
  name: string;
  value: number;
  /**
   * Whether the server's current value already gives what the gateway needs.
   * Several gateways with different settings may share one server, so a value
   * that is stricter (memory) or roomier (time) than ours is kept, never fought over.
   */
  satisfied(current: number): boolean;
  /** Read when the module loads and never changed after: only the loadmodule line sets it. */
  loadTimeOnly?: boolean;
}

/**
 * Most rows the gateway's own reads (tenant export) ask for at once. RESULTSET_SIZE
 * never goes below it: FalkorDB drops the rows beyond RESULTSET_SIZE without a word.
 */
export const INTERNAL_READ_ROWS = 5000;

export interface LimitSources {
  /** QUERY_TIMEOUT_MS: the longest `timeoutMs` a caller may ask for. */
  timeoutMs: number;
  /** MAX_ROWS: the gateway's row cap. */
  maxRows: number;
  /** QUERY_MEMORY_MAX_BYTES. */
  memoryMaxBytes: number;
  /** MAX_CONCURRENT_QUERIES_PER_TENANT. */
  maxConcurrentPerTenant: number;
}

/**
 * Query threads the embedded server starts with, and the value the gateway asks
 * an external one for: twice one tenant's concurrency cap, so a tenant holding
 * all its slots leaves as many threads to the others (never fewer than one per CPU).
 */
export function queryThreads(maxConcurrentPerTenant: number, cpus: number = os.availableParallelism()): number {
  return Math.max(cpus, 2 * maxConcurrentPerTenant);
}

export function databaseLimits(s: LimitSources): DatabaseLimit[] {
  const resultRows = Math.max(s.maxRows + 1, INTERNAL_READ_ROWS + 1);
  return [
    // Without TIMEOUT_MAX, FalkorDB ignores a write's TIMEOUT: it must be set, and
    // at least as long as the longest timeout the gateway sends.
    { name: 'TIMEOUT_MAX', value: s.timeoutMs, satisfied: (c) => c >= s.timeoutMs },
    // For queries sent without TIMEOUT (exports and imports); must not exceed TIMEOUT_MAX.
    { name: 'TIMEOUT_DEFAULT', value: s.timeoutMs, satisfied: (c) => c >= s.timeoutMs },
    // 0 is unlimited.
    { name: 'QUERY_MEM_CAPACITY', value: s.memoryMaxBytes, satisfied: (c) => c > 0 && c <= s.memoryMaxBytes },
    // One row past the cap, so the gateway still sees that a result was truncated;
    // -1 is unlimited, and the whole reply would be read into the gateway's memory.
    { name: 'RESULTSET_SIZE', value: resultRows, satisfied: (c) => c >= resultRows },
    // Any other value keeps the last queries, with their parameter values, in a
    // `telemetry{graph}` stream (memory, AOF, backups). CMD_INFO does not stop it.
    { name: 'MAX_INFO_QUERIES', value: 0, satisfied: (c) => c === 0 },
    // FalkorDB runs THREAD_COUNT queries at once and queues the rest in arrival
    // order: with no more threads than one tenant's cap, that tenant's slow
    // queries hold every thread and the others' wait behind them.
    { name: 'THREAD_COUNT', value: queryThreads(s.maxConcurrentPerTenant), satisfied: (c) => c > s.maxConcurrentPerTenant, loadTimeOnly: true },
  ];
}

/** Arguments for `loadmodule falkordb.so …`. */
export function moduleArguments(limits: readonly DatabaseLimit[]): string[] {
  return limits.flatMap((l) => [l.name, String(l.value)]);
}

function commandsToRun(limits: readonly DatabaseLimit[]): string {
  return limits.map((l) => (l.loadTimeOnly ? `  ${l.name} ${l.value} in the loadmodule line (it cannot be changed while the server runs)` : `  GRAPH.CONFIG SET ${l.name} ${l.value}`)).join('\n');
}

async function readLimit(node: Pick<Database, 'sendCommand'>, name: string): Promise<number | undefined> {
  try {
    const reply = await node.sendCommand(['GRAPH.CONFIG', 'GET', name]);
    const value = Array.isArray(reply) ? (Array.isArray(reply[0]) ? reply[0][1] : reply[1]) : undefined;
    const n = Number(value);
    return value === undefined || value === null || !Number.isFinite(n) ? undefined : n;
  } catch {
    return undefined; // not allowed to read it (ACL) or not there: counts as not set
  }
}

async function missingOn(node: Pick<Database, 'sendCommand'>, limits: readonly DatabaseLimit[]): Promise<DatabaseLimit[]> {
  const missing: DatabaseLimit[] = [];
  for (const limit of limits) {
    const current = await readLimit(node, limit.name);
    if (current === undefined || !limit.satisfied(current)) missing.push(limit);
  }
  return missing;
}

/** What one server still lacks after the gateway looked (and, with `apply`, set what it may), and why. */
export interface NodeLimits {
  missing: DatabaseLimit[];
  /** Why the missing ones are not set, for messages; empty when nothing is missing. */
  why: string;
}

/** Reads `limits` on one server and, with `apply`, sets what is missing where the server allows it. */
export async function limitsOn(node: Pick<Database, 'sendCommand'>, limits: readonly DatabaseLimit[], mode: Exclude<DatabaseLimitsMode, 'off'>, logger: Logger, address: string): Promise<NodeLimits> {
  let missing = await missingOn(node, limits);
  // Reason → the settings it refused, so that one reason (often NOPERM for every setting) is said once.
  const refused = new Map<string, string[]>();
  // A second round re-reads: another gateway may have set a value in between.
  for (let round = 0; mode === 'apply' && missing.length > 0 && round < 3; round += 1) {
    for (const limit of missing) {
      if (limit.loadTimeOnly) {
        refused.set('FalkorDB reads it only when the module loads', [...(refused.get('FalkorDB reads it only when the module loads') ?? []), limit.name]);
        continue;
      }
      try {
        await node.sendCommand(['GRAPH.CONFIG', 'SET', limit.name, String(limit.value)]);
        logger.info({ node: address, setting: limit.name, value: limit.value }, 'set a FalkorDB limit the gateway needs');
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
        refused.set(reason, [...(refused.get(reason) ?? []), limit.name]);
      }
    }
    missing = await missingOn(node, limits);
    if (refused.size > 0) break;
  }
  if (missing.length === 0) return { missing, why: '' };
  const why = mode === 'check' ? 'DATABASE_LIMITS=check does not set them' : `the gateway could not set them (${[...refused].map(([reason, names]) => `${names.join(', ')}: ${reason}`).join('; ') || 'the value did not hold'})`;
  return { missing, why };
}

/** One server the gateway sends queries to, with where it is (no password) for messages. */
export interface LimitNode {
  address: string;
  node: Pick<Database, 'sendCommand'>;
}

/** The commands an operator runs on `address` for what it lacks, as start-up refuses and later checks log them. */
export function missingLimitsMessage(address: string, lack: NodeLimits): string {
  const others = [
    ...(lack.missing.some((l) => !l.loadTimeOnly) ? ["let the gateway's database user run GRAPH.CONFIG SET"] : []),
    ...(lack.missing.some((l) => l.name === 'THREAD_COUNT') ? ["lower MAX_CONCURRENT_QUERIES_PER_TENANT below the server's THREAD_COUNT"] : []),
    'start with DATABASE_LIMITS=off to accept the risk',
  ];
  return `FalkorDB at ${address} lacks limits the gateway needs to keep one tenant from stalling or filling the server for the others, and ${lack.why}. Run on every FalkorDB server (or put them in its loadmodule line):\n${commandsToRun(lack.missing)}\nor ${others.join(', or ')}.`;
}

/**
 * Makes sure an external FalkorDB enforces `limits` on every server the gateway sends
 * queries to at start (`nodes`: the primary, each reachable read replica, every node of
 * a cluster), or refuses to start with the commands an operator must run. GRAPH.CONFIG is
 * per server and not replicated; servers that join or restart later are kept by node-limits.ts.
 */
export async function ensureDatabaseLimits(nodes: readonly LimitNode[], limits: readonly DatabaseLimit[], mode: DatabaseLimitsMode, logger: Logger): Promise<void> {
  if (mode === 'off') {
    logger.warn(`DATABASE_LIMITS=off: the gateway does not check FalkorDB's own limits, so one tenant's query can run, grow or be recorded without bound; on every FalkorDB server run:\n${commandsToRun(limits)}`);
    return;
  }
  for (const { address, node } of nodes) {
    const lack = await limitsOn(node, limits, mode, logger, address);
    if (lack.missing.length === 0) continue;
    throw new GatewayError('DATABASE_LIMITS_MISSING', missingLimitsMessage(address, lack), { settings: lack.missing.map((l) => l.name).join(','), address });
  }
}
