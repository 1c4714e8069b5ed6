// Renders a run as Markdown: machine, targets, the ratios behind them, one table
// per workload, tenant scaling, isolation, front-door requests, memory, and what could not run.

import type { MachineFacts } from './machine.js';
import { cpuPerCallUs, type LoadOutcome, type Outcomes } from './outcomes.js';
import { CONCURRENCY, loadCellId, requestCellId, TENANT_TIERS, type Cell } from './plan.js';
import { REQUESTS, WORKLOADS, type RequestName, type SystemName, type WorkloadName } from './protocol.js';
import { fmtDeltaMs, fmtInt, fmtMs, fmtRatio } from './stats.js';
import type { TargetCheck } from './targets.js';
import { WORKLOAD_SPECS } from './workloads.js';

export interface ReportInput {
  command: string;
  machine: MachineFacts;
  loadAverageEnd: string;
  officialVersion: string | undefined;
  gatewayEnv: Record<string, string>;
  /** What the acl gateway sets on top of gatewayEnv (its ACL_USER_SECRET is not printed). */
  gatewayAclEnv: Record<string, string>;
  /** --profile: the gateway ran in the benchmark's process from the TypeScript source, not compiled in its own. */
  inProcessGateway: boolean;
  durationMs: number;
  warmupMs: number;
  plan: Cell[];
  outcomes: Outcomes;
  targets: TargetCheck[];
}

const SYSTEM_LABELS: Record<SystemName, string> = {
  direct: 'direct `falkordb` client',
  floor: 'floor: node:http + `falkordb`, no MCP',
  'floor-sdk': 'floor + the MCP SDK\'s server',
  'gateway-raw': 'gateway, raw JSON-RPC',
  'gateway-acl': 'gateway, TENANT_ISOLATION=acl, raw JSON-RPC',
  'gateway-otel': 'gateway, tracing on at 1 % (OTLP to a local receiver), raw JSON-RPC',
  'gateway-sdk': 'gateway, SDK Client',
  'official-raw': 'official, raw JSON-RPC',
  'official-sdk': 'official, SDK Client',
};

const OFFICIAL_PEER: Partial<Record<SystemName, SystemName>> = { 'gateway-raw': 'official-raw', 'gateway-sdk': 'official-sdk' };

function mib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : '–';
}

function kib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : '–';
}

function us(value: number): string {
  return Number.isFinite(value) ? fmtInt(value) : '–';
}

/** One table row; a `|` inside a cell (e.g. the command name CLIENT|SETINFO) would split it. */
function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

function loadRow(o: Outcomes, out: LoadOutcome): string {
  const { cell, stats } = out;
  const label = SYSTEM_LABELS[cell.system];
  if (stats === undefined) return row([fmtInt(cell.tenants), String(cell.concurrency), label, `failed: ${out.error ?? 'unknown'}`, '', '', '', '', '', '', '', '', '', '']);
  const direct = cell.system === 'direct' ? undefined : o.stats(loadCellId('direct', cell.workload, cell.concurrency, cell.tenants));
  const peer = OFFICIAL_PEER[cell.system];
  const official = peer === undefined ? undefined : o.stats(loadCellId(peer, cell.workload, cell.concurrency, cell.tenants));
  const vsDirectP50 = direct === undefined ? '' : `${fmtDeltaMs(stats.p50Ms - direct.p50Ms)} (${fmtRatio(stats.p50Ms / direct.p50Ms)})`;
  const vsDirectRate = direct === undefined ? '' : fmtRatio(stats.callsPerSec / direct.callsPerSec);
  const vsOfficial = official === undefined ? '' : fmtRatio(stats.callsPerSec / official.callsPerSec);
  const errors = stats.errors === 0 ? '0' : `**${fmtInt(stats.errors)}**`;
  return row([
    fmtInt(cell.tenants),
    String(cell.concurrency),
    label,
    fmtInt(stats.callsPerSec),
    fmtMs(stats.p50Ms),
    fmtMs(stats.p95Ms),
    fmtMs(stats.p99Ms),
    errors,
    vsDirectP50,
    vsDirectRate,
    vsOfficial,
    us(cpuPerCallUs(out.serverCpuMs, stats)),
    us(cpuPerCallUs(out.falkordbCpuMs, stats)),
    us(cpuPerCallUs(out.clientCpuMs, stats)),
  ]);
}

/** The systems the ratio targets compare, side by side at c=1 and c=64 (`RETURN 1`, one tenant). */
function ratioTable(o: Outcomes): string[] {
  const systems = ['floor', 'floor-sdk', 'gateway-raw', 'official-raw'] as const;
  const lines: string[] = [];
  for (const c of [1, 64]) {
    const cpu = Object.fromEntries(systems.map((s) => [s, o.serverUs(loadCellId(s, 'return1', c, 1))])) as Record<(typeof systems)[number], number>;
    const p50 = Object.fromEntries(systems.map((s) => [s, o.stats(loadCellId(s, 'return1', c, 1))?.p50Ms ?? NaN])) as Record<(typeof systems)[number], number>;
    if (systems.every((s) => !Number.isFinite(cpu[s]))) continue;
    lines.push(row([String(c), 'server CPU µs/call', ...systems.map((s) => us(cpu[s])), fmtRatio(cpu['gateway-raw'] / cpu.floor), fmtRatio(cpu['gateway-raw'] / cpu['official-raw']), fmtRatio(cpu['floor-sdk'] / cpu.floor)]));
    lines.push(row([String(c), 'p50 ms', ...systems.map((s) => fmtMs(p50[s])), fmtRatio(p50['gateway-raw'] / p50.floor), fmtRatio(p50['gateway-raw'] / p50['official-raw']), fmtRatio(p50['floor-sdk'] / p50.floor)]));
  }
  if (lines.length === 0) return [];
  return [
    '## Ratios (`RETURN 1`, one tenant, raw JSON-RPC over the same lean client)',
    '',
    row(['conc.', 'figure', 'floor', 'floor + SDK', 'gateway', 'official', 'gateway / floor', 'gateway / official', 'floor + SDK / floor']),
    row(['---:', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...lines,
    '',
  ];
}

const REQUEST_LABELS: Record<RequestName, string> = {
  healthz: '`GET /healthz` (the listener alone)',
  'tools-list': '`tools/list`, good token (stateless POST /mcp)',
  'no-token': '`tools/call` without a token (401)',
  'bad-token': '`tools/call`, bad token: well formed, wrong signature, a different one each time (401)',
  'bad-token-limited': 'the same bad tokens on a gateway with the default AUTH_FAILURES_PER_MINUTE=100 (401 for the first 100, then 429 before the token is checked)',
};

function requestTable(o: Outcomes): string[] {
  const lines: string[] = [];
  for (const c of CONCURRENCY) {
    for (const request of REQUESTS) {
      const out = o.requests.get(requestCellId(request, c));
      if (out === undefined) continue;
      const s = out.stats;
      if (s === undefined) {
        lines.push(row([String(c), REQUEST_LABELS[request], `failed: ${out.error ?? 'unknown'}`, '', '', '', '']));
        continue;
      }
      const healthz = o.requestUs(requestCellId('healthz', c));
      const cpu = o.requestUs(out.cell.id);
      lines.push(row([String(c), REQUEST_LABELS[request], fmtInt(s.callsPerSec), fmtMs(s.p50Ms), s.errors === 0 ? '0' : `**${fmtInt(s.errors)}**`, us(cpu), request === 'healthz' ? '' : fmtRatio(cpu / healthz)]));
    }
  }
  if (lines.length === 0) return [];
  return [
    '## Requests that stop before a tool runs (gateway)',
    '',
    'Each kind of request alone in a closed loop on keep-alive sockets; the gateway\'s CPU per request in the timed window. They run on a gateway started for them, the same as the main one but for AUTH_FAILURES_PER_MINUTE=0, so that every bad token is checked (a flood from many addresses) and the benchmark\'s own address is never limited; the last row on one with the default limit.',
    '',
    row(['conc.', 'request', 'req/s', 'p50 ms', 'errors', 'gateway CPU µs/request', 'vs `/healthz`']),
    row(['---:', '---', '---:', '---:', '---:', '---:', '---:']),
    ...lines,
    '',
  ];
}

function workloadTable(input: ReportInput, workload: WorkloadName): string[] {
  const outs = input.plan.flatMap((c) => (c.kind === 'load' && c.workload === workload ? [input.outcomes.load.get(c.id)] : [])).filter((x): x is LoadOutcome => x !== undefined);
  if (outs.length === 0) return [];
  const spec = WORKLOAD_SPECS[workload];
  return [
    `### ${spec.title}`,
    '',
    `\`${spec.query}\`${spec.readOnly ? ' (read-only: GRAPH.RO_QUERY on every system)' : ''}`,
    '',
    row(['tenants', 'conc.', 'system', 'calls/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'p50 vs direct (ms)', 'calls/s vs direct', 'calls/s vs official', 'server CPU µs/call', 'FalkorDB CPU µs/call', 'client CPU µs/call']),
    row(Array.from({ length: 14 }, (_, i) => (i < 3 ? '---' : '---:'))),
    ...outs.map((out) => loadRow(input.outcomes, out)),
    '',
  ];
}

function scalingTable(o: Outcomes): string[] {
  const lines: string[] = [];
  for (const workload of WORKLOADS) {
    for (const c of CONCURRENCY) {
      for (const tenants of TENANT_TIERS) {
        const gw = o.load.get(loadCellId('gateway-raw', workload, c, tenants));
        const direct = o.stats(loadCellId('direct', workload, c, tenants));
        if (gw?.stats === undefined || direct === undefined) continue;
        lines.push(row([
          WORKLOAD_SPECS[workload].name,
          String(c),
          fmtInt(tenants),
          `${fmtDeltaMs(gw.stats.p50Ms - direct.p50Ms)}`,
          `${fmtDeltaMs(gw.stats.p99Ms - direct.p99Ms)}`,
          fmtRatio(gw.stats.callsPerSec / direct.callsPerSec),
          us(cpuPerCallUs(gw.serverCpuMs, gw.stats)),
          us(cpuPerCallUs(gw.falkordbCpuMs, gw.stats)),
        ]));
      }
    }
  }
  if (lines.length === 0) return [];
  return [
    '## Tenant scaling (gateway, raw JSON-RPC, against the direct client on the same keys)',
    '',
    'Per-call cost should stay flat as the tenants grow: compare the gateway\'s added latency and its and FalkorDB\'s CPU per call across tiers. Before a tier\'s timed cells, each gateway gets one unmeasured call from every tenant, so the windows see tenants it has met before.',
    '',
    row(['workload', 'conc.', 'tenants', 'p50 added (ms)', 'p99 added (ms)', 'calls/s gateway / direct', 'gateway CPU µs/call', 'FalkorDB CPU µs/call']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...lines,
    '',
  ];
}

/** TENANT_ISOLATION=acl against the default (prefix), same client, same keys. */
function isolationTable(o: Outcomes, aclPoolMax: string): string[] {
  const lines: string[] = [];
  for (const workload of WORKLOADS) {
    for (const c of CONCURRENCY) {
      for (const tenants of TENANT_TIERS) {
        const [prefixId, aclId] = [loadCellId('gateway-raw', workload, c, tenants), loadCellId('gateway-acl', workload, c, tenants)];
        const prefix = o.stats(prefixId);
        const acl = o.stats(aclId);
        if (prefix === undefined || acl === undefined) continue;
        const prefixCpu = o.serverUs(prefixId) + o.falkordbUs(prefixId);
        const aclCpu = o.serverUs(aclId) + o.falkordbUs(aclId);
        lines.push(row([
          WORKLOAD_SPECS[workload].name, String(c), fmtInt(tenants),
          fmtInt(prefix.callsPerSec), fmtInt(acl.callsPerSec), fmtRatio(acl.callsPerSec / prefix.callsPerSec),
          us(prefixCpu), us(aclCpu), fmtRatio(aclCpu / prefixCpu),
          fmtMs(prefix.p50Ms), fmtMs(acl.p50Ms), fmtMs(prefix.p99Ms), fmtMs(acl.p99Ms),
        ]));
      }
    }
  }
  if (lines.length === 0) return [];
  return [
    '## Tenant isolation: acl against prefix',
    '',
    `The same raw JSON-RPC client against two gateways on the same database: \`TENANT_ISOLATION=prefix\` (the default) and \`TENANT_ISOLATION=acl\` (each tenant's calls on a connection logged in as its own database user, at most \`ACL_POOL_MAX\`=${aclPoolMax} such connections, least recently used closed first). CPU per call is the gateway's plus FalkorDB's.`,
    '',
    row(['workload', 'conc.', 'tenants', 'calls/s prefix', 'calls/s acl', 'acl / prefix', 'CPU µs/call prefix', 'CPU µs/call acl', 'CPU acl / prefix', 'p50 ms prefix', 'p50 ms acl', 'p99 ms prefix', 'p99 ms acl']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...lines,
    '',
  ];
}

function commandsTable(input: ReportInput): string[] {
  const rows = input.plan.flatMap((c) => {
    const out = c.kind === 'load' ? input.outcomes.load.get(c.id) : undefined;
    return out?.commandsPerCall === undefined || out.cell.concurrency !== 64 ? [] : [row([WORKLOAD_SPECS[out.cell.workload].name, fmtInt(out.cell.tenants), SYSTEM_LABELS[out.cell.system], out.commandsPerCall])];
  });
  if (rows.length === 0) return [];
  return [
    '## FalkorDB commands per call (concurrency 64)',
    '',
    'From `INFO commandstats` around each timed window: everything the server ran, divided by the calls (the gateway\'s own state traffic included).',
    '',
    row(['workload', 'tenants', 'system', 'commands per call']),
    row(['---', '---:', '---', '---']),
    ...rows,
    '',
  ];
}

function memoryTable(o: Outcomes, inProcessGateway: boolean): string[] {
  if (o.memory.length === 0) return [];
  const label = { 'gateway-sse': 'gateway, legacy SSE (`GET /sse`)', 'official-session': 'official, Streamable HTTP session + its `GET` stream' };
  return [
    '## Memory with open sessions',
    '',
    'Streams are opened by the load process with plain HTTP (no SDK client) and held open while the server\'s RSS is read.',
    `The gateway's figures are taken after a full GC in its process (${inProcessGateway ? 'the benchmark\'s own, with --profile' : 'asked for over IPC'}), RSS from /proc; the official server's RSS is read from /proc without one.`,
    '',
    row(['server', 'sessions asked', 'opened', 'RSS before', 'RSS with sessions', 'RSS per session', 'JS heap per session']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...o.memory.map((m) => {
      if (m.error !== undefined) return row([label[m.cell.target], fmtInt(m.cell.sessions), `failed: ${m.error}`, '', '', '', '']);
      const perSession = (m.rssAfter - m.rssBefore) / Math.max(1, m.opened);
      const heap = m.heapAfter === undefined || m.heapBefore === undefined ? NaN : (m.heapAfter - m.heapBefore) / Math.max(1, m.opened);
      return row([label[m.cell.target], fmtInt(m.cell.sessions), `${fmtInt(m.opened)}${m.failed > 0 ? ` (${m.failed} failed)` : ''}`, mib(m.rssBefore), mib(m.rssAfter), kib(perSession), kib(heap)]);
    }),
    '',
  ];
}

export function renderReport(input: ReportInput): string {
  const { machine: m, outcomes: o } = input;
  const gatewayEnv = Object.entries(input.gatewayEnv).map(([k, v]) => `${k}=${v}`).join(', ');
  const tiers = o.tiers.map((t) => {
    const perGraph = t.tenants === 1 ? '' : ` (about ${kib(t.usedMemoryBytes / t.tenants)} per tenant graph)`;
    return `${fmtInt(t.tenants)} tenant${t.tenants === 1 ? '' : 's'}: ${fmtInt(t.nodesPerGraph)} nodes per graph, created in ${t.createSec.toFixed(1)} s, FalkorDB used_memory ${mib(t.usedMemoryBytes)}${perGraph}`;
  });
  return [
    '# Benchmark: the gateway against the direct client and the official MCP server',
    '',
    `Written by \`${input.command}\` on ${m.date}, commit ${m.commit}.`,
    `Timed window ${input.durationMs / 1000} s per cell after ${input.warmupMs / 1000} s of warm-up.`,
    '',
    `> Load average (1/5/15 min) at the start: ${m.loadAverage}; at the end: ${input.loadAverageEnd}. On a 2-core machine anything else running`,
    '> moves latency and calls/s a lot; CPU per call (last three columns) moves much less. Rerun on an idle machine for figures to quote.',
    '',
    '## Machine',
    '',
    row(['', '']),
    row(['---', '---']),
    row(['CPU', `${m.cores} cores, ${m.cpuModel}`]),
    row(['memory', `${m.memoryGiB} GiB`]),
    row(['OS', m.platform]),
    row(['Node.js', m.node]),
    row(['FalkorDB', `${m.falkordb} (module), on ${m.server}`]),
    row(['official MCP server', input.officialVersion === undefined ? 'not run' : `@falkordb/mcpserver ${input.officialVersion}`]),
    '',
    '## Targets (ratios between systems measured in this run)',
    '',
    'Every system below ran in this run, on the same FalkorDB and data, driven by the same lean HTTP client; the floor is node:http + the `falkordb` client with no MCP (bench/systems/floor-entry.ts). CPU per call is the server process\'s CPU time in the timed window divided by the calls.',
    '',
    row(['target', 'measured', 'verdict']),
    row(['---', '---', '---']),
    ...input.targets.map((t) => row([t.target, t.measured, t.verdict === 'met' || t.verdict === 'reported' ? t.verdict : `**${t.verdict}**`])),
    '',
    ...ratioTable(o),
    '## What is measured',
    '',
    '- One FalkorDB (the embedded launcher, as the tests start it; snapshots and AOF turned off for the run so that no background save lands in a timed window), one set of data, one run. Every system hits the same graph keys with the same queries and parameters.',
    input.inProcessGateway
      ? `- **This run profiled the gateway (--profile)**: it ran in the benchmark's own process from the TypeScript source through tsx (${gatewayEnv}), which costs 10–20 % more CPU per call than the compiled build; do not quote these figures.`
      : `- The gateway runs as deployed: compiled by \`npm run build\` and started with \`node dist/cli/index.js serve\` in its own process, as the Dockerfile and the systemd unit do (${gatewayEnv}, LOG_LEVEL=warn: at info every request also writes an access-log line).`,
    '- The official server and the floors run in processes of their own; every client runs in a separate load process, so no server shares its event loop with a load generator. "server CPU" is the CPU time of the server\'s process in the timed window, divided by the calls.',
    '- The gateway does on every call what it does in production, except rate limiting: token verification (cached), the tenant policy lookup (revocation, tenant status), the concurrency caps, an audit event (a stream per tenant in FalkorDB) and usage counters; the commands table below shows what that costs the database.',
    '- Closed loop: each of `conc.` lanes sends its next call when the previous one is answered.',
    `- **gateway, TENANT_ISOLATION=acl**: a second gateway, the same but for ${Object.entries(input.gatewayAclEnv).filter(([k]) => k !== 'ACL_USER_SECRET').map(([k, v]) => `${k}=${v}`).join(', ')} (the pool sized above the 1,000 tenants the acl target is measured at, as docs/deployment.md advises; at 10,000 tenants it evicts).`,
    '- **direct**: the `falkordb` npm client (`FalkorDB.connect`, `selectGraph().query` / `roQuery`), one connection per lane (FalkorDB runs one query per connection at a time).',
    '- **gateway, raw JSON-RPC**: one stateless `tools/call` POST to `/mcp` per call over keep-alive sockets (a lean HTTP/1.1 client of the benchmark\'s own, bench/systems/raw-http.ts: node:http\'s client costs 150–300 µs of CPU per call here, taken from the servers it shares the cores with), the token of that call\'s tenant in `Authorization`. **gateway, SDK Client**: the MCP SDK\'s `Client` with `StreamableHTTPClientTransport`, one connected client per lane.',
    '- **floor**: what any Node.js HTTP front for FalkorDB costs at least: node:http, `JSON.parse` of the same `tools/call` body, one query over the `falkordb` client, one JSON reply; no MCP, tokens, tenancy or audit (bench/systems/floor-entry.ts, in its own process, same lean client). The gateway cannot beat it; the distance to it is what the gateway\'s work costs.',
    '- **floor + the MCP SDK\'s server**: the floor behind the SDK\'s `McpServer` (one tool with zod input and output schemas), fed by the gateway\'s own stateless transport (`CallerMultiplexer`) after the same JSON-RPC envelope check; still no tokens, tenancy or audit. Its distance to the floor is what the SDK costs; the gateway\'s distance to it is what the gateway\'s own work (authentication, tenancy, admission, audit, usage, result shaping) costs.',
    '- **official**: `@falkordb/mcpserver` with `MCP_TRANSPORT=http`, `NODE_ENV=production` (its default, development, writes every log line to a file), no API key; it is stateful, so each lane opens its own session (initialize, then the session id on every POST); its replies come as one-event SSE streams; the timed calls use the same lean HTTP client as the gateway\'s. It sends every query over its one FalkorDB connection. It has no tenants: it runs in the one-tenant tier, on the same graph key.',
    '- Tenants: calls go round-robin over the tier\'s tenants, each with its own token (HS256, verified by the gateway) and its own graph `social` (key `<tenant>_social`). The 100,000 nodes are split evenly over the tier (1 tenant: one 100k-node graph; 1,000: 100 nodes each; 10,000: 10 each), each node with two `:K` edges and an index on `:P(id)`; the direct client queries exactly the same keys, so each tier compares like with like. A tier\'s graphs are deleted before the next tier is made.',
    ...tiers.map((t) => `  - ${t}`),
    '',
    '## Results',
    '',
    ...WORKLOADS.flatMap((w) => workloadTable(input, w)),
    ...scalingTable(o),
    ...isolationTable(o, input.gatewayAclEnv['ACL_POOL_MAX'] ?? '500'),
    ...requestTable(o),
    ...commandsTable(input),
    ...memoryTable(o, input.inProcessGateway),
    ...(o.problems.length === 0 ? [] : ['## Could not run', '', ...o.problems.map((p) => `- ${p}`), '']),
    '## How to run',
    '',
    '```',
    'npm run bench                 # everything (15 minutes or more), writes bench/results.md',
    'npm run bench -- --quick      # every target, shorter windows, fewer cells (a few minutes), writes bench/results-quick.md',
    'npm run bench -- --only=gateway-raw,return1,c=64,tenants=1 --duration=20   # one cell, printed only',
    '```',
    '',
    'Profiling the gateway, and what the profiles found: bench/PROFILE.md.',
    '',
  ].join('\n');
}
