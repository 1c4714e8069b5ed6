// The targets of the per-call path, as ratios between systems measured in the same run
// (same machine, same FalkorDB, same lean HTTP client), checked against a run's outcomes.

import type { Outcomes } from './outcomes.js';
import { CONCURRENCY, loadCellId, requestCellId, SESSIONS } from './plan.js';
import type { RequestName, SystemName } from './protocol.js';
import { fmtDeltaMs, fmtInt, fmtMs, fmtRatio } from './stats.js';

/** 'reported': a figure the targets ask for without a bound. */
export type Verdict = 'met' | 'not met' | 'not measured' | 'reported';

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: Verdict;
}

export const MAX_VS_FLOOR_CPU = 2.5;
export const MAX_VS_OFFICIAL_CPU = 0.5;
export const MAX_ADDED_OVER_FLOOR_P50_MS = 0.3;
export const MAX_TENANT_GROWTH = 1.15;
export const MANY_TENANTS = 10_000;
export const ACL_TENANTS = 1_000;
export const MAX_ACL_VS_PREFIX = 1.3;
export const MAX_REFUSAL_VS_HEALTHZ = 2;
export const MAX_SSE_RSS_BYTES = 150e6;

const return1 = (system: SystemName, concurrency: number, tenants = 1) => loadCellId(system, 'return1', concurrency, tenants);
const us = (n: number) => `${fmtInt(n)} µs`;
const finite = (...ns: number[]) => ns.every(Number.isFinite);

function verdict(ok: boolean): Verdict {
  return ok ? 'met' : 'not met';
}

/** A line per concurrency: the gateway's CPU per call against another system's, at most `max` times. */
function cpuRatio(o: Outcomes, other: SystemName, otherName: string, max: number, concurrency: number): TargetCheck {
  const target = `gateway CPU per tool call ≤ ${max}× ${otherName}'s (\`RETURN 1\`, concurrency ${concurrency})`;
  const gw = o.serverUs(return1('gateway-raw', concurrency));
  const base = o.serverUs(return1(other, concurrency));
  if (!finite(gw, base)) return { target, measured: '–', verdict: 'not measured' };
  const ratio = gw / base;
  return { target, measured: `${fmtRatio(ratio)} (gateway ${us(gw)}, ${otherName} ${us(base)})`, verdict: verdict(ratio <= max) };
}

/** Growth from one tenant to many of a per-call figure, at each concurrency measured in both tiers. */
function tenantGrowth(what: string, perCall: (id: string) => number, baseline?: SystemName): TargetCheck {
  const target = `flat in tenants: ${what} per call with ${fmtInt(MANY_TENANTS)} tenants ≤ ${MAX_TENANT_GROWTH}× one tenant's (gateway, \`RETURN 1\`)`;
  const parts: string[] = [];
  let ok = true;
  for (const c of CONCURRENCY) {
    const one = perCall(return1('gateway-raw', c));
    const many = perCall(return1('gateway-raw', c, MANY_TENANTS));
    if (!finite(one, many)) continue;
    ok &&= many / one <= MAX_TENANT_GROWTH;
    // What the same spread costs the database without the gateway: its share of the growth.
    const [baseOne, baseMany] = baseline === undefined ? [NaN, NaN] : [perCall(return1(baseline, c)), perCall(return1(baseline, c, MANY_TENANTS))];
    const context = finite(baseOne, baseMany) ? `; the ${baseline} client alone ${fmtRatio(baseMany / baseOne)}` : '';
    parts.push(`c=${c}: ${fmtRatio(many / one)} (${us(many)} vs ${us(one)}${context})`);
  }
  return parts.length === 0 ? { target, measured: '–', verdict: 'not measured' } : { target, measured: parts.join('; '), verdict: verdict(ok) };
}

function aclVsPrefix(o: Outcomes): TargetCheck {
  const target = `\`TENANT_ISOLATION=acl\` CPU per call ≤ ${MAX_ACL_VS_PREFIX}× prefix mode's at ${fmtInt(ACL_TENANTS)} tenants (gateway + FalkorDB, \`RETURN 1\`)`;
  const parts: string[] = [];
  let ok = true;
  for (const c of CONCURRENCY) {
    const [prefixId, aclId] = [return1('gateway-raw', c, ACL_TENANTS), return1('gateway-acl', c, ACL_TENANTS)];
    const prefix = o.serverUs(prefixId) + o.falkordbUs(prefixId);
    const acl = o.serverUs(aclId) + o.falkordbUs(aclId);
    if (!finite(prefix, acl)) continue;
    ok &&= acl / prefix <= MAX_ACL_VS_PREFIX;
    parts.push(`c=${c}: ${fmtRatio(acl / prefix)} (acl ${us(o.serverUs(aclId))} + ${us(o.falkordbUs(aclId))}, prefix ${us(o.serverUs(prefixId))} + ${us(o.falkordbUs(prefixId))}; gateway + FalkorDB)`);
  }
  return parts.length === 0 ? { target, measured: '–', verdict: 'not measured' } : { target, measured: parts.join('; '), verdict: verdict(ok) };
}

function refusalVsHealthz(o: Outcomes, request: RequestName, what: string): TargetCheck {
  const target = `a request with ${what} costs ≤ ${MAX_REFUSAL_VS_HEALTHZ}× \`GET /healthz\` (gateway CPU per request)`;
  const parts: string[] = [];
  let ok = true;
  for (const c of CONCURRENCY) {
    const refused = o.requestUs(requestCellId(request, c));
    const healthz = o.requestUs(requestCellId('healthz', c));
    if (!finite(refused, healthz)) continue;
    ok &&= refused / healthz <= MAX_REFUSAL_VS_HEALTHZ;
    parts.push(`c=${c}: ${fmtRatio(refused / healthz)} (${us(refused)} vs ${us(healthz)})`);
  }
  return parts.length === 0 ? { target, measured: '–', verdict: 'not measured' } : { target, measured: parts.join('; '), verdict: verdict(ok) };
}

function toolsList(o: Outcomes): TargetCheck {
  const target = '`tools/list` CPU per request (answered from a cache), reported';
  const parts = CONCURRENCY.flatMap((c) => {
    const list = o.requestUs(requestCellId('tools-list', c));
    const healthz = o.requestUs(requestCellId('healthz', c));
    return Number.isFinite(list) ? [`c=${c}: ${us(list)}${Number.isFinite(healthz) ? ` (${fmtRatio(list / healthz)} \`/healthz\`)` : ''}`] : [];
  });
  return parts.length === 0 ? { target, measured: '–', verdict: 'not measured' } : { target, measured: parts.join('; '), verdict: 'reported' };
}

function sseMemory(o: Outcomes): TargetCheck {
  const target = `≤ ${MAX_SSE_RSS_BYTES / 1e6} MB RSS with ${fmtInt(SESSIONS)} open SSE sessions (legacy \`/sse\`)`;
  const m = o.memory.find((x) => x.cell.target === 'gateway-sse' && x.cell.sessions === SESSIONS);
  if (m === undefined || m.error !== undefined || !Number.isFinite(m.rssAfter)) return { target, measured: m?.error ?? '–', verdict: 'not measured' };
  const figure = `${(m.rssAfter / 1e6).toFixed(1)} MB with ${fmtInt(m.opened)} open (${(m.rssBefore / 1e6).toFixed(1)} MB before)`;
  if (m.opened < SESSIONS) return { target, measured: `${figure}; ${fmtInt(m.failed)} failed to open`, verdict: 'not measured' };
  return { target, measured: figure, verdict: verdict(m.rssAfter <= MAX_SSE_RSS_BYTES) };
}

export function checkTargets(o: Outcomes): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const c of [1, 64]) checks.push(cpuRatio(o, 'floor', 'the floor', MAX_VS_FLOOR_CPU, c));
  for (const c of [1, 64]) checks.push(cpuRatio(o, 'official-raw', 'the official server', MAX_VS_OFFICIAL_CPU, c));

  const [gw, floor, official] = (['gateway-raw', 'floor', 'official-raw'] as const).map((s) => o.stats(return1(s, 1)));
  const added = `gateway adds ≤ ${MAX_ADDED_OVER_FLOOR_P50_MS} ms at p50 over the floor (\`RETURN 1\`, concurrency 1)`;
  if (gw !== undefined && floor !== undefined) {
    const delta = gw.p50Ms - floor.p50Ms;
    checks.push({ target: added, measured: `${fmtDeltaMs(delta)} ms (gateway p50 ${fmtMs(gw.p50Ms)} ms, floor ${fmtMs(floor.p50Ms)} ms)`, verdict: verdict(delta <= MAX_ADDED_OVER_FLOOR_P50_MS) });
  } else {
    checks.push({ target: added, measured: '–', verdict: 'not measured' });
  }
  const faster = 'gateway p50 below the official server\'s (`RETURN 1`, concurrency 1)';
  if (gw !== undefined && official !== undefined) {
    checks.push({ target: faster, measured: `${fmtMs(gw.p50Ms)} vs ${fmtMs(official.p50Ms)} ms (${fmtDeltaMs(gw.p50Ms - official.p50Ms)} ms)`, verdict: verdict(gw.p50Ms < official.p50Ms) });
  } else {
    checks.push({ target: faster, measured: '–', verdict: 'not measured' });
  }

  checks.push(tenantGrowth('gateway CPU', (id) => o.serverUs(id)));
  checks.push(tenantGrowth('FalkorDB CPU', (id) => o.falkordbUs(id), 'direct'));
  checks.push(aclVsPrefix(o));
  checks.push(toolsList(o));
  checks.push(refusalVsHealthz(o, 'no-token', 'no token'));
  checks.push(refusalVsHealthz(o, 'bad-token', 'a bad token (well formed, wrong signature, a different one each time; every one checked, AUTH_FAILURES_PER_MINUTE=0)'));
  checks.push(sseMemory(o));
  return checks;
}
