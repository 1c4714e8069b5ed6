// The targets for this 2-core machine (issue "Performance and scale-out"), checked against a run.

import { loadCellId } from './plan.js';
import type { Outcomes } from './outcomes.js';
import { fmtDeltaMs, fmtInt, fmtMs, fmtRatio } from './stats.js';

export type Verdict = 'met' | 'not met' | 'not measured';

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: Verdict;
}

const RETURN1_C1 = (system: 'direct' | 'floor' | 'gateway-raw' | 'gateway-sdk') => loadCellId(system, 'return1', 1, 1);
const RETURN1_C64 = (system: 'floor' | 'gateway-raw' | 'gateway-sdk' | 'official-raw' | 'official-sdk') => loadCellId(system, 'return1', 64, 1);

export const MAX_ADDED_P50_MS = 0.5;
export const MIN_CALLS_PER_SEC = 5_000;
export const MIN_VS_OFFICIAL = 3;

export function checkTargets(o: Outcomes): TargetCheck[] {
  const checks: TargetCheck[] = [];

  const direct = o.stats(RETURN1_C1('direct'));
  const raw = o.stats(RETURN1_C1('gateway-raw'));
  const sdk = o.stats(RETURN1_C1('gateway-sdk'));
  if (direct !== undefined && raw !== undefined) {
    const added = raw.p50Ms - direct.p50Ms;
    const floor = o.stats(RETURN1_C1('floor'));
    const sdkNote = sdk === undefined ? '' : `; with the SDK client ${fmtDeltaMs(sdk.p50Ms - direct.p50Ms)} ms`;
    const floorNote = floor === undefined ? '' : `; the floor (node:http + falkordb, no MCP) ${fmtDeltaMs(floor.p50Ms - direct.p50Ms)} ms`;
    checks.push({
      target: `gateway adds ≤ ${MAX_ADDED_P50_MS} ms at p50 over the direct client (\`RETURN 1\`, concurrency 1)`,
      measured: `${fmtDeltaMs(added)} ms (gateway raw JSON-RPC p50 ${fmtMs(raw.p50Ms)} ms, direct ${fmtMs(direct.p50Ms)} ms${sdkNote}${floorNote})`,
      verdict: added <= MAX_ADDED_P50_MS ? 'met' : 'not met',
    });
  } else {
    checks.push({ target: `gateway adds ≤ ${MAX_ADDED_P50_MS} ms at p50 over the direct client`, measured: '–', verdict: 'not measured' });
  }

  const raw64 = o.stats(RETURN1_C64('gateway-raw'));
  const sdk64 = o.stats(RETURN1_C64('gateway-sdk'));
  if (raw64 !== undefined) {
    const floor64 = o.stats(RETURN1_C64('floor'));
    const sdkNote = sdk64 === undefined ? '' : `; SDK client ${fmtInt(sdk64.callsPerSec)}/s`;
    const floorNote = floor64 === undefined ? '' : `; the floor (node:http + falkordb, no MCP) ${fmtInt(floor64.callsPerSec)}/s`;
    checks.push({
      target: `≥ ${fmtInt(MIN_CALLS_PER_SEC)} tool calls/s at concurrency 64 (\`RETURN 1\`)`,
      measured: `${fmtInt(raw64.callsPerSec)} calls/s (raw JSON-RPC${sdkNote}${floorNote})`,
      verdict: raw64.callsPerSec >= MIN_CALLS_PER_SEC ? 'met' : 'not met',
    });
  } else {
    checks.push({ target: `≥ ${fmtInt(MIN_CALLS_PER_SEC)} tool calls/s at concurrency 64`, measured: '–', verdict: 'not measured' });
  }

  const official64 = o.stats(RETURN1_C64('official-raw'));
  const officialSdk64 = o.stats(RETURN1_C64('official-sdk'));
  if (raw64 !== undefined && official64 !== undefined) {
    const ratio = raw64.callsPerSec / official64.callsPerSec;
    const sdkNote = sdk64 !== undefined && officialSdk64 !== undefined ? `; SDK client vs SDK client ${fmtRatio(sdk64.callsPerSec / officialSdk64.callsPerSec)}` : '';
    checks.push({
      target: `≥ ${MIN_VS_OFFICIAL}× the official server's throughput (\`RETURN 1\`, concurrency 64)`,
      measured: `${fmtRatio(ratio)} (raw JSON-RPC: ${fmtInt(raw64.callsPerSec)} vs ${fmtInt(official64.callsPerSec)} calls/s${sdkNote})`,
      verdict: ratio >= MIN_VS_OFFICIAL ? 'met' : 'not met',
    });
  } else {
    checks.push({ target: `≥ ${MIN_VS_OFFICIAL}× the official server's throughput`, measured: '–', verdict: 'not measured' });
  }
  return checks;
}
