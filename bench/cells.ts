// Measuring cells: a load cell (one system, workload, concurrency and tenant tier), a
// memory cell (sessions held open), and the per-tier data set-up around them.

import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandMeter } from './commandstats.js';
import { CpuMeter, processRssBytes } from './cpu.js';
import { createTier, deleteGraphs, nodesPerGraph } from './dataset.js';
import { infoField, isRunning, serverPidOf, type Running } from './environment.js';
import type { BenchOptions } from './options.js';
import type { RequestName } from './protocol.js';
import type { GatewayServer } from './systems/gateway-server.js';
import { cpuPerCallUs, type LoadOutcome, type Outcomes, type RequestOutcome } from './outcomes.js';
import type { LoadCell, MemoryCell, RequestCell } from './plan.js';
import { fmtInt, fmtMs } from './stats.js';

const PRIME_CONCURRENCY = 8;
/** The unmeasured pass over every tenant of a tier: its lanes, and the most time it may take. */
const PASS_CONCURRENCY = 64;
const PASS_MAX_MS = 300_000;

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function runLoadCell(run: Running, cell: LoadCell, options: BenchOptions, outcomes: Outcomes): Promise<void> {
  const serverPid = serverPidOf(run, cell.system);
  const meter = new CpuMeter({ server: serverPid, falkordb: run.falkordbPid });
  const commands = new CommandMeter(run.admin);
  const profiler = serverPid === process.pid ? run.profiler : undefined;
  const outcome: LoadOutcome = { cell, serverCpuMs: NaN, falkordbCpuMs: NaN, clientCpuMs: NaN };
  try {
    if (!isRunning(run, cell.system)) throw new Error(`the server of ${cell.system} is not running`);
    const { result, clientCpuMs } = await run.load.run(
      { kind: 'load', system: cell.system, workload: cell.workload, concurrency: cell.concurrency, tenants: cell.tenants, warmupMs: options.warmupMs, durationMs: options.durationMs, endpoints: run.endpoints },
      (edge) => {
        meter.mark(edge);
        commands.mark(edge);
        if (edge === 'start') profiler?.start();
      },
    );
    const profile = await profiler?.stop(cell.id);
    if (profile !== undefined) log(`  profile: ${path.relative(process.cwd(), profile)}`);
    const commandsPerCall = await commands.perCall(result.calls + result.errors);
    Object.assign(outcome, { stats: result, serverCpuMs: meter.deltaMs('server'), falkordbCpuMs: meter.deltaMs('falkordb'), clientCpuMs, commandsPerCall });
    const errors = result.errors === 0 ? '' : `  ERRORS ${result.errors}: ${result.errorSamples.join(' | ')}`;
    const cpu = [['server', outcome.serverCpuMs], ['db', outcome.falkordbCpuMs]].filter(([, ms]) => Number.isFinite(ms)).map(([name, ms]) => `${name} ${fmtInt(cpuPerCallUs(ms as number, result))}`).join(' ');
    log(`${cell.id.padEnd(44)} ${fmtInt(result.callsPerSec).padStart(7)} calls/s  p50 ${fmtMs(result.p50Ms)}  p95 ${fmtMs(result.p95Ms)}  p99 ${fmtMs(result.p99Ms)} ms  CPU µs/call: ${cpu}${errors}`);
  } catch (error) {
    await profiler?.stop(cell.id).catch(() => undefined);
    outcome.error = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    log(`${cell.id.padEnd(44)} FAILED: ${outcome.error}`);
  }
  outcomes.load.set(cell.id, outcome);
}

/**
 * The gateways the request cells run on, started for them (GATEWAY_ENV plus these settings): a
 * missing or bad token counts as a failed authentication of the benchmark's address, and past
 * AUTH_FAILURES_PER_MINUTE the main gateway would refuse the next tier's new tokens with 429.
 * 'front' turns the limit off, so that every bad token is checked (a flood from many
 * addresses); `/healthz`, the ratios' baseline, runs on the same process. 'limited' keeps the
 * default limit (a flood from one address: 429 before the token is checked).
 */
const REQUEST_GATEWAYS = { front: { AUTH_FAILURES_PER_MINUTE: '0' }, limited: {} } as const;
const GATEWAY_OF: Record<RequestName, keyof typeof REQUEST_GATEWAYS> = {
  healthz: 'front',
  'tools-list': 'front',
  'no-token': 'front',
  'bad-token': 'front',
  'bad-token-limited': 'limited',
};

/** A request cell: one kind of request to a gateway in a closed loop, the gateway's CPU around the timed window. */
async function runRequestCell(run: Running, gateway: GatewayServer, cell: RequestCell, options: BenchOptions, outcomes: Outcomes): Promise<void> {
  const outcome: RequestOutcome = { cell, serverCpuMs: NaN, clientCpuMs: NaN };
  try {
    const meter = new CpuMeter({ server: gateway.pid });
    const { result, clientCpuMs } = await run.load.run(
      { kind: 'request', request: cell.request, concurrency: cell.concurrency, warmupMs: options.warmupMs, durationMs: options.durationMs, endpoints: { ...run.endpoints, gatewayUrl: gateway.url } },
      (edge) => meter.mark(edge),
    );
    Object.assign(outcome, { stats: result, serverCpuMs: meter.deltaMs('server'), clientCpuMs });
    const errors = result.errors === 0 ? '' : `  ERRORS ${result.errors}: ${result.errorSamples.join(' | ')}`;
    log(`${cell.id.padEnd(44)} ${fmtInt(result.callsPerSec).padStart(7)} req/s    p50 ${fmtMs(result.p50Ms)}  p99 ${fmtMs(result.p99Ms)} ms  gateway CPU µs/request: ${fmtInt(cpuPerCallUs(outcome.serverCpuMs, result))}${errors}`);
  } catch (error) {
    outcome.error = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    log(`${cell.id.padEnd(44)} FAILED: ${outcome.error}`);
  }
  outcomes.requests.set(cell.id, outcome);
}

/** The request cells, each on its gateway (REQUEST_GATEWAYS), started once for them and stopped after. */
export async function runRequestCells(run: Running, cells: RequestCell[], options: BenchOptions, outcomes: Outcomes): Promise<void> {
  for (const name of Object.keys(REQUEST_GATEWAYS) as Array<keyof typeof REQUEST_GATEWAYS>) {
    const mine = cells.filter((c) => GATEWAY_OF[c.request] === name);
    if (mine.length === 0) continue;
    let gateway: GatewayServer | undefined;
    try {
      gateway = await run.startGateway(REQUEST_GATEWAYS[name]);
      for (const cell of mine) await runRequestCell(run, gateway, cell, options, outcomes);
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      for (const cell of mine) if (!outcomes.requests.has(cell.id)) outcomes.requests.set(cell.id, { cell, serverCpuMs: NaN, clientCpuMs: NaN, error: message });
      log(`request cells on the ${name} gateway FAILED: ${message}`);
    } finally {
      await gateway?.stop().catch(() => undefined);
    }
  }
}

export async function runMemoryCell(run: Running, cell: MemoryCell, outcomes: Outcomes): Promise<void> {
  const gateway = cell.target === 'gateway-sse' ? run.gateway : undefined;
  const pid = gateway?.pid ?? run.official?.pid;
  /** A full GC in the gateway (twice, around a pause); its JS heap after it. The official server's heap is not reachable. */
  const settle = async (): Promise<number | undefined> => {
    await gateway?.collect();
    await sleep(300);
    return gateway?.collect();
  };
  try {
    if (pid === undefined) throw new Error('the official server is not running');
    const heapBefore = await settle();
    const rssBefore = processRssBytes(pid);
    const held = await run.load.hold({ kind: 'hold', target: cell.target, count: cell.sessions, endpoints: run.endpoints });
    const heapAfter = await settle();
    const rssAfter = processRssBytes(pid);
    await run.load.release();
    await sleep(300);
    outcomes.memory.push({ cell, opened: held.opened, failed: held.failed, rssBefore, rssAfter, ...(heapBefore === undefined || heapAfter === undefined ? {} : { heapBefore, heapAfter }) });
    const failed = held.failed === 0 ? '' : ` (${held.failed} failed: ${held.firstError ?? ''})`;
    log(`${cell.id.padEnd(44)} ${held.opened} open${failed}: RSS ${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB, ${((rssAfter - rssBefore) / 1024 / Math.max(1, held.opened)).toFixed(1)} KiB per session`);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    outcomes.memory.push({ cell, opened: 0, failed: cell.sessions, rssBefore: NaN, rssAfter: NaN, error: message });
    log(`${cell.id.padEnd(44)} FAILED: ${message}`);
  }
}

/**
 * Runs every (system, workload) pair of the first tier briefly, unmeasured, so that V8 has
 * compiled each path before any cell is timed: otherwise whichever cell runs first pays for it.
 */
async function prime(run: Running, cells: LoadCell[], options: BenchOptions): Promise<void> {
  const pairs = new Map(cells.map((c) => [`${c.system}/${c.workload}`, c]));
  log(`-- priming ${pairs.size} system/workload pairs for ${options.primeMs / 1000} s each (not measured)`);
  for (const cell of pairs.values()) {
    if (!isRunning(run, cell.system)) continue;
    await run.load
      .run({ kind: 'load', system: cell.system, workload: cell.workload, concurrency: PRIME_CONCURRENCY, tenants: cell.tenants, warmupMs: 0, durationMs: options.primeMs, endpoints: run.endpoints }, () => undefined)
      .catch(() => undefined);
  }
}

/**
 * One unmeasured call for every tenant of a tier on each gateway the tier measures, so that the
 * timed windows see tenants the gateway has met before (token verified once, database user made
 * in acl mode), as in a running deployment, and not a window's worth of first calls.
 */
async function visitEveryTenant(run: Running, tenants: number, cells: LoadCell[]): Promise<void> {
  const systems = [...new Set(cells.filter((c) => c.system.startsWith('gateway')).map((c) => c.system))];
  for (const system of systems) {
    const started = performance.now();
    try {
      await run.load.run({ kind: 'load', system, workload: 'return1', concurrency: PASS_CONCURRENCY, tenants, warmupMs: 0, durationMs: PASS_MAX_MS, maxCalls: tenants, endpoints: run.endpoints }, () => undefined);
      log(`-- ${system}: one call for each of the ${fmtInt(tenants)} tenants in ${((performance.now() - started) / 1000).toFixed(1)} s (not measured)`);
    } catch (error) {
      log(`-- ${system}: the pass over every tenant FAILED: ${error instanceof Error ? error.message.split('\n')[0]! : String(error)}`);
    }
  }
}

export async function runTier(run: Running, tenants: number, cells: LoadCell[], options: BenchOptions, outcomes: Outcomes): Promise<void> {
  const started = performance.now();
  log(`-- creating the data of ${fmtInt(tenants)} tenant${tenants === 1 ? '' : 's'} (${fmtInt(nodesPerGraph(tenants))} nodes each)`);
  const keys = await createTier(run.falkordb.url, tenants);
  const conn = await run.admin.connection;
  const usedMemory = Number(infoField(String(await conn.sendCommand(['INFO', 'memory'])), 'used_memory'));
  outcomes.tiers.push({ tenants, nodesPerGraph: nodesPerGraph(tenants), createSec: (performance.now() - started) / 1000, usedMemoryBytes: usedMemory });
  try {
    if (outcomes.tiers.length === 1) await prime(run, cells, options);
    if (tenants > 1) await visitEveryTenant(run, tenants, cells);
    for (const cell of cells) await runLoadCell(run, cell, options, outcomes);
  } finally {
    await deleteGraphs(run.falkordb.url, keys);
  }
}
