// Where export snapshots and half-loaded imports live: under the gateway's own
// `gw:` prefix, which no tenant key starts with and no tool or tenant listing
// reaches (tenant listings scan `<encoded tenant>_*`), so a tenant never sees a
// graph mid-import. The run id keeps two runs apart; the target key sits in a
// `{…}` hash tag, so on a Redis/Valkey Cluster the scratch graph is in the same
// slot as the tenant graph and GRAPH.COPY between them stays within one shard.

import { randomBytes } from 'node:crypto';
import { GATEWAY_STATE_PREFIX } from '../tenancy/keys.js';

/** What every scratch key starts with; an operator can find leftovers of a killed run with SCAN MATCH `gw:transfer:*`. */
export const SCRATCH_PREFIX = `${GATEWAY_STATE_PREFIX}transfer:`;

export function newTransferRunId(): string {
  return randomBytes(8).toString('hex');
}

/** The scratch key for `graphKey` (a key from tenantGraphKey, which never holds `{` or `}`). */
export function scratchGraphKey(runId: string, graphKey: string): string {
  if (!/^[0-9a-f]{16}$/.test(runId) || /[{}]/.test(graphKey)) throw new Error('invalid scratch key parts');
  return `${SCRATCH_PREFIX}${runId}:{${graphKey}}`;
}

/** SCAN pattern of every scratch graph of run `runId`. */
export function scratchRunPattern(runId: string): string {
  if (!/^[0-9a-f]{16}$/.test(runId)) throw new Error('invalid scratch run id');
  return `${SCRATCH_PREFIX}${runId}:*`;
}

/** A plain key of run `runId` (no graph), to tell whether two connections reach the same server. */
export function scratchProbeKey(runId: string): string {
  return `${scratchRunPattern(runId).slice(0, -1)}probe`;
}
