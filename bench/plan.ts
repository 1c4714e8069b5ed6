// Which cells a run measures: system × workload × concurrency × tenants, the
// front-door requests (no tool call), and the memory cells.

import type { BenchOptions } from './options.js';
import { REQUESTS, SYSTEMS, WORKLOADS, type RequestName, type SystemName, type WorkloadName } from './protocol.js';

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

/** One kind of request that stops before a tool runs (GET /healthz, tools/list, a refused token), on the gateway. */
export interface RequestCell {
  kind: 'request';
  id: string;
  request: RequestName;
  concurrency: number;
}

export type Cell = LoadCell | RequestCell | MemoryCell;

export const CONCURRENCY = [1, 16, 64] as const;
export const TENANT_TIERS = [1, 1_000, 10_000] as const;
export const SESSIONS = 1_000;
/** Systems without tenants of their own (or one client per tenant) run the one-tenant tier only. */
const MULTI_TENANT_SYSTEMS: readonly SystemName[] = ['direct', 'gateway-raw', 'gateway-acl'];

export function loadCellId(system: SystemName, workload: WorkloadName, concurrency: number, tenants: number): string {
  return `${system}/${workload}/c=${concurrency}/tenants=${tenants}`;
}

function loadCell(system: SystemName, workload: WorkloadName, concurrency: number, tenants: number): LoadCell {
  return { kind: 'load', id: loadCellId(system, workload, concurrency, tenants), system, workload, concurrency, tenants };
}

export function requestCellId(request: RequestName, concurrency: number): string {
  return `request/${request}/c=${concurrency}`;
}

function requestCells(concurrencies: readonly number[]): RequestCell[] {
  return concurrencies.flatMap((c) => REQUESTS.map((request) => ({ kind: 'request' as const, id: requestCellId(request, c), request, concurrency: c })));
}

function fullPlan(): Cell[] {
  const cells: Cell[] = [];
  // Systems interleave inside each (workload, concurrency), so drift in the machine's load hits them alike.
  for (const tenants of TENANT_TIERS) {
    const systems = tenants === 1 ? SYSTEMS : MULTI_TENANT_SYSTEMS;
    for (const workload of WORKLOADS) for (const c of CONCURRENCY) for (const s of systems) if (s !== 'gateway-otel' || workload === 'return1') cells.push(loadCell(s, workload, c, tenants));
  }
  return [...cells, ...requestCells([1, 64])];
}

/** Every cell a target reads (targets.ts), and a few more to see that every workload runs; nothing else. */
function quickPlan(): Cell[] {
  const cells: Cell[] = [];
  // Concurrency 1 for the latency target and the CPU ratios at c=1; 64 for every system.
  for (const s of ['direct', 'floor', 'floor-sdk', 'gateway-raw', 'gateway-otel', 'official-raw'] as const) cells.push(loadCell(s, 'return1', 1, 1));
  for (const s of SYSTEMS) cells.push(loadCell(s, 'return1', 64, 1));
  for (const w of ['read1hop', 'write'] as const) for (const s of ['direct', 'gateway-raw', 'official-raw'] as const) cells.push(loadCell(s, w, 64, 1));
  for (const s of MULTI_TENANT_SYSTEMS) cells.push(loadCell(s, 'return1', 64, 1_000));
  for (const c of [1, 64]) for (const s of ['direct', 'gateway-raw'] as const) cells.push(loadCell(s, 'return1', c, 10_000));
  return [...cells, ...requestCells([64])];
}

export function buildPlan(options: BenchOptions): Cell[] {
  // --quick holds as many sessions as the full run: the memory target is read from them.
  const memory: Cell[] = [
    { kind: 'memory', id: `memory/gateway-sse/sessions=${SESSIONS}`, target: 'gateway-sse', sessions: SESSIONS },
    { kind: 'memory', id: `memory/official-session/sessions=${SESSIONS}`, target: 'official-session', sessions: SESSIONS },
  ];
  const cells = [...memory, ...(options.quick ? quickPlan() : fullPlan())];
  if (options.only.length === 0) return cells;
  return cells.filter((cell) => {
    const segments = new Set(cell.id.split('/'));
    return options.only.every((term) => segments.has(term));
  });
}
