// `npx tsx bench/stages.ts`: what each stage of the gateway's request path costs,
// as the gateway's CPU per request for requests that stop at successive stages:
// the listener alone (GET /healthz), plus authentication, admission and the MCP
// server (ping), plus the SDK's tool dispatch (a tools/call refused by input
// validation), plus the tool path without the database (falkordb_list_graphs,
// served from the graph-list cache), the whole call (RETURN 1). Differences
// between rows are the cost of a stage. Raw JSON-RPC over keep-alive sockets,
// one tenant; the gateway runs compiled in its own process (as in `npm run bench`),
// the load in another.
//
//   npx tsx bench/stages.ts [--concurrency=64] [--duration=4] [--rounds=2] [--only=TEXT] [--profile]
//
// --profile runs the gateway in this process from the TypeScript source instead (10–20 %
// slower) and writes bench/profiles/stage-<name>.cpuprofile per stage (timed window only).

import { fork } from 'node:child_process';
import path from 'node:path';
import { signTestToken } from '../test/support/tokens.js';
import { startTestFalkorDB } from '../test/support/falkordb.js';
import { startTestGateway } from '../test/support/gateway.js';
import { processCpuMs } from './cpu.js';
import { FALKORDB_THREADS, GATEWAY_ENV } from './environment.js';
import { WindowProfiler } from './profiler.js';
import type { StageEvent, StageJob } from './stages-load.js';
import { buildGateway, startGatewayServer } from './systems/gateway-server.js';
import { fmtInt } from './stats.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

function flag(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : arg.slice(name.length + 3);
}

const concurrency = Number(flag('concurrency', '64'));
const durationMs = Number(flag('duration', '4')) * 1000;
const rounds = Number(flag('rounds', '2'));
const only = flag('only', '');
const profile = process.argv.includes('--profile');
if (![concurrency, durationMs, rounds].every((n) => Number.isInteger(n) && n > 0)) {
  throw new Error('--concurrency, --duration and --rounds take positive whole numbers');
}

const falkordb = await startTestFalkorDB({ threads: FALKORDB_THREADS });
if (!profile) buildGateway();
const gateway = profile ? await startTestGateway(falkordb.url, GATEWAY_ENV) : await startGatewayServer(falkordb.url, GATEWAY_ENV);
const gatewayPid = 'pid' in gateway ? gateway.pid : process.pid;
const load = fork(path.join(REPO_ROOT, 'bench', 'stages-load.ts'), [], { cwd: REPO_ROOT, execArgv: ['--import', 'tsx'] });
const profiler = profile ? new WindowProfiler(path.join(REPO_ROOT, 'bench', 'profiles')) : undefined;

try {
  const token = await signTestToken('bench-main', { scope: 'read write', expiresInSec: 3600 });
  const mcp = `${gateway.url}/mcp`;
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json, text/event-stream' };
  const rpc = (method: string, params?: object) => JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) });
  const call = (name: string, args: object) => rpc('tools/call', { name, arguments: args });
  const stages: Array<[string, Omit<StageJob, 'concurrency' | 'durationMs'>]> = [
    ['listener (GET /healthz)', { method: 'GET', url: `${gateway.url}/healthz`, headers: {}, body: '', expectStatus: 200 }],
    ['+ token, admission, MCP server (ping)', { method: 'POST', url: mcp, headers, body: rpc('ping'), expectStatus: 200, expectText: '"result":{}' }],
    ['+ tool dispatch (input refused)', { method: 'POST', url: mcp, headers, body: call('falkordb_query', { graphName: 'social' }), expectStatus: 200, expectText: 'INVALID_ARGUMENT' }],
    ['+ tool path, no database (list_graphs)', { method: 'POST', url: mcp, headers, body: call('falkordb_list_graphs', {}), expectStatus: 200, expectText: '"structuredContent"' }],
    ['+ database (RETURN 1)', { method: 'POST', url: mcp, headers, body: call('falkordb_query', { graphName: 'social', query: 'RETURN 1', readOnly: true }), expectStatus: 200, expectText: '"rowCount":1' }],
  ];
  // RETURN 1 with readOnly needs the graph to exist.
  const created = await fetch(mcp, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: call('falkordb_query', { graphName: 'social', query: 'CREATE (:P {id: 1})' }) });
  if (!(await created.text()).includes('"rowCount"')) throw new Error('could not create the graph the stages use');

  console.log(`gateway CPU per request by stage; concurrency ${concurrency}, ${durationMs / 1000} s per stage, ${rounds} round(s)\n`);
  console.log(`${'stage'.padEnd(42)} ${'req/s'.padStart(7)} ${'µs/req'.padStart(7)}`);
  for (let round = 0; round < rounds; round++) {
    for (const [name, job] of stages.filter(([n]) => only === '' || n.includes(only))) {
      let cpuAtStart = processCpuMs(gatewayPid);
      const end = await new Promise<Extract<StageEvent, { edge: 'end' }>>((resolve) => {
        const listen = (event: StageEvent) => {
          if (event.edge === 'start') {
            cpuAtStart = processCpuMs(gatewayPid);
            profiler?.start();
            return;
          }
          load.off('message', listen);
          resolve(event);
        };
        load.on('message', listen);
        load.send({ ...job, concurrency, durationMs } satisfies StageJob);
      });
      const cpuUs = (processCpuMs(gatewayPid) - cpuAtStart) * 1000;
      await profiler?.stop(`stage-${name.replace(/[^a-z0-9]+/gi, '-')}`);
      const problem = end.unexpected === 0 ? '' : `  UNEXPECTED ${end.unexpected}: ${end.sample}`;
      console.log(`${name.padEnd(42)} ${fmtInt(end.calls / (durationMs / 1000)).padStart(7)} ${fmtInt(cpuUs / end.calls).padStart(7)}${problem}`);
    }
  }
} finally {
  profiler?.close();
  load.kill();
  await gateway.stop();
  await falkordb.cleanup();
}
process.exit(0);
