// Which cells a run measures: system × workload × concurrency × tenants, and the memory cells.

import type { BenchOptions } from './options.js';
import { SYSTEMS, WORKLOADS, type SystemName, type WorkloadName } from './protocol.js';

export interface LoadCell {
  kind: 'load';
  id: string;
  system: SystemName;
  workload: WorkloadName;
  concurrency: number;
  tenants: number;
}

export interface MemoryCell {
  kind: 'memory';
  id: string;
  target: 'gateway-sse' | 'official-session';
  sessions: number;
}

export type Cell = LoadCell | MemoryCell;

export const CONCURRENCY = [1, 16, 64] as const;
export const TENANT_TIERS = [1, 1_000, 10_000] as const;
export const SESSIONS = 1_000;
const QUICK_SESSIONS = 250;
/** Systems without tenants of their own (or one client per tenant) run the one-tenant tier only. */
const MULTI_TENANT_SYSTEMS: readonly SystemName[] = ['direct', 'gateway-raw', 'gateway-acl'];

export function loadCellId(system: SystemName, workload: WorkloadName, concurrency: number, tenants: number): string {
  return `${system}/${workload}/c=${concurrency}/tenants=${tenants}`;
}

function loadCell(system: SystemName, workload: WorkloadName, concurrency: number, tenants: number): LoadCell {
  return { kind: 'load', id: loadCellId(system, workload, concurrency, tenants), system, workload, concurrency, tenants };
}

function fullPlan(): Cell[] {
  const cells: Cell[] = [];
  // Systems interleave inside each (workload, concurrency), so drift in the machine's load hits them alike.
  for (const tenants of TENANT_TIERS) {
    const systems = tenants === 1 ? SYSTEMS : MULTI_TENANT_SYSTEMS;
    for (const workload of WORKLOADS) for (const c of CONCURRENCY) for (const s of systems) if (s !== 'gateway-otel' || workload === 'return1') cells.push(loadCell(s, workload, c, tenants));
  }
  return cells;
}

function quickPlan(): Cell[] {
  const cells: Cell[] = [];
  // Concurrency 1 only for what the latency target and its floor need; 64 for every system.
  for (const s of ['direct', 'floor', 'gateway-raw', 'gateway-otel', 'official-raw'] as const) cells.push(loadCell(s, 'return1', 1, 1));
  for (const s of SYSTEMS) cells.push(loadCell(s, 'return1', 64, 1));
  for (const w of ['read1hop', 'write'] as const) for (const s of ['direct', 'gateway-raw', 'official-raw'] as const) cells.push(loadCell(s, w, 64, 1));
  for (const s of MULTI_TENANT_SYSTEMS) cells.push(loadCell(s, 'return1', 64, 1_000));
  return cells;
}

export function buildPlan(options: BenchOptions): Cell[] {
  // --quick holds fewer sessions: it is a check that everything runs, not the figure to quote.
  const sessions = options.quick ? QUICK_SESSIONS : SESSIONS;
  const memory: Cell[] = [
    { kind: 'memory', id: `memory/gateway-sse/sessions=${sessions}`, target: 'gateway-sse', sessions },
    { kind: 'memory', id: `memory/official-session/sessions=${sessions}`, target: 'official-session', sessions },
  ];
  const cells = [...memory, ...(options.quick ? quickPlan() : fullPlan())];
  if (options.only.length === 0) return cells;
  return cells.filter((cell) => {
    const segments = new Set(cell.id.split('/'));
    return options.only.every((term) => segments.has(term));
  });
}
