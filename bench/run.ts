// `npm run bench`: one FalkorDB, the gateway in this process, the official MCP
// server beside it, clients in a load process; writes bench/results.md.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { log, runMemoryCell, runRequestCells, runTier } from './cells.js';
import { GATEWAY_ACL_ENV, GATEWAY_ENV, startSystems, stopSystems } from './environment.js';
import { loadAverage, machineFacts } from './machine.js';
import { parseOptions } from './options.js';
import { Outcomes } from './outcomes.js';
import { buildPlan, type Cell, type LoadCell, type RequestCell } from './plan.js';
import { renderReport } from './report.js';
import { checkTargets } from './targets.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const plan: Cell[] = buildPlan(options);
  if (plan.length === 0) throw new Error(`--only=${options.only.join(',')} selects no cell; see --help for the cell ids`);
  const began = performance.now();
  const outcomes = new Outcomes();
  const needsOfficial = plan.some((c) => (c.kind === 'load' ? c.system.startsWith('official') : c.kind === 'memory' && c.target === 'official-session'));
  const needsFloor = plan.some((c) => c.kind === 'load' && c.system.startsWith('floor'));
  log(`bench: ${plan.length} cells, ${options.durationMs / 1000} s each after ${options.warmupMs / 1000} s warm-up; load average ${loadAverage()}`);

  const run = await startSystems(needsOfficial, needsFloor, options.profile, outcomes);
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: stopping the servers');
    void stopSystems(run).finally(() => process.exit(130));
  });
  const machine = machineFacts(run.moduleVersion, run.serverName);
  try {
    // Memory first, on an idle gateway, so that the load cells' heap growth is not counted against sessions.
    for (const cell of plan) if (cell.kind === 'memory') await runMemoryCell(run, cell, outcomes);
    // Then the requests that stop before a tool runs: they need no tenant data.
    await runRequestCells(run, plan.filter((c): c is RequestCell => c.kind === 'request'), options, outcomes);
    const tiers = [...new Set(plan.flatMap((c) => (c.kind === 'load' ? [c.tenants] : [])))].sort((a, b) => a - b);
    for (const tenants of tiers) {
      if (interrupted) break;
      await runTier(run, tenants, plan.filter((c): c is LoadCell => c.kind === 'load' && c.tenants === tenants), options, outcomes);
    }
  } finally {
    if (!interrupted) await stopSystems(run);
  }
  if (interrupted) return;

  const targets = checkTargets(outcomes);
  log(`\ndone in ${((performance.now() - began) / 1000).toFixed(0)} s; load average ${loadAverage()}`);
  for (const t of targets) log(`${t.verdict.toUpperCase().padEnd(12)} ${t.target}: ${t.measured}`);
  const report = renderReport({
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    loadAverageEnd: loadAverage(),
    officialVersion: run.official?.version,
    gatewayEnv: GATEWAY_ENV,
    gatewayAclEnv: GATEWAY_ACL_ENV,
    inProcessGateway: options.profile,
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
    plan,
    outcomes,
    targets,
  });
  if (options.out !== undefined) {
    const file = path.resolve(REPO_ROOT, options.out);
    await writeFile(file, report);
    log(`\nwrote ${path.relative(process.cwd(), file)}`);
  } else {
    log(`\n${report}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
