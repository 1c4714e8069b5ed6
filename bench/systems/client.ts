// What every system under test offers the load runner: one call per lane, then close.

import type { LoadJob } from '../protocol.js';
import type { Workload } from '../workloads.js';

export interface SystemClient {
  /** Runs one call of the workload for the `seq`-th call, from lane `lane`; returns the rows it got. */
  call(lane: number, seq: number): Promise<number>;
  close(): Promise<void>;
}

export interface SystemContext {
  job: LoadJob;
  workload: Workload;
  /** Tenant index of call `seq`: calls go round-robin over the tier's tenants. */
  tenantOf(seq: number): number;
}
