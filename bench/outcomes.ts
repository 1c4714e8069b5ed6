// What one run found, cell by cell; the report and the target checks read these.

import type { LoadCell, MemoryCell, RequestCell } from './plan.js';
import type { LoadResult } from './runner.js';

export interface LoadOutcome {
  cell: LoadCell;
  stats?: LoadResult;
  /** CPU ms in the timed window: the gateway's process or the official server's (NaN for direct). */
  serverCpuMs: number;
  falkordbCpuMs: number;
  clientCpuMs: number;
  /** FalkorDB commands per call in the timed window, e.g. "GRAPH.RO_QUERY 1.00, XADD 1.00". */
  commandsPerCall?: string;
  error?: string;
}

export interface RequestOutcome {
  cell: RequestCell;
  stats?: LoadResult;
  /** CPU ms of the gateway's process in the timed window. */
  serverCpuMs: number;
  clientCpuMs: number;
  error?: string;
}

export interface MemoryOutcome {
  cell: MemoryCell;
  opened: number;
  failed: number;
  rssBefore: number;
  rssAfter: number;
  /** Only for the gateway, which runs in this process (after a forced GC). */
  heapBefore?: number;
  heapAfter?: number;
  error?: string;
}

export interface TierSetup {
  tenants: number;
  nodesPerGraph: number;
  createSec: number;
  /** FalkorDB's used_memory with this tier's graphs loaded. */
  usedMemoryBytes: number;
}

export class Outcomes {
  readonly load = new Map<string, LoadOutcome>();
  readonly requests = new Map<string, RequestOutcome>();
  readonly tiers: TierSetup[] = [];
  readonly memory: MemoryOutcome[] = [];
  /** Things that could not run, and why, for the report. */
  readonly problems: string[] = [];

  stats(id: string): LoadResult | undefined {
    return this.load.get(id)?.stats;
  }

  /** Server (gateway, floor or official) CPU µs per call of a load cell; NaN when not measured. */
  serverUs(id: string): number {
    const out = this.load.get(id);
    return out === undefined ? NaN : cpuPerCallUs(out.serverCpuMs, out.stats);
  }

  /** FalkorDB CPU µs per call of a load cell; NaN when not measured. */
  falkordbUs(id: string): number {
    const out = this.load.get(id);
    return out === undefined ? NaN : cpuPerCallUs(out.falkordbCpuMs, out.stats);
  }

  /** The gateway's CPU µs per request of a request cell; NaN when not measured. */
  requestUs(id: string): number {
    const out = this.requests.get(id);
    return out === undefined ? NaN : cpuPerCallUs(out.serverCpuMs, out.stats);
  }
}

/** CPU microseconds per completed call. */
export function cpuPerCallUs(cpuMs: number, stats: LoadResult | undefined): number {
  return stats === undefined || stats.calls === 0 ? NaN : (cpuMs * 1000) / stats.calls;
}
