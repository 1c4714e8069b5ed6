// Soak: 3 tenants × 6 devices make mixed reads and writes through one gateway
// (its own process, on the default limits) while one hostile tenant sends each
// attack of docs/security.md's "Noisy neighbours" that the gateway defends. Afterwards: no bystander call
// failed, every acknowledged write is in the database, the gateway's and the
// database's memory stayed bounded, each attack met its defence, and no
// parameter value was stored. Latency is printed, never asserted.
//
// Size: SOAK_SECONDS of load (default 40, the CI size); e.g. SOAK_SECONDS=600
// for a long local run. The summary is printed as test diagnostics and written
// to test-results/soak.txt (and soak.json).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import { readEmbeddedState } from '../src/falkordb/launcher.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { databaseText, startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { REPO_ROOT, callTool, connectClient, type ToolOutcome, type TransportKind } from './support/mcp.js';
import { toolCall } from './support/sse.js';
import { MemoryWatch, Tally, megabytes, percentile, randomSource, soakSeconds, startServeProcess, type ServeProcess } from './support/soak.js';
import { TEST_SECRET, signTestToken } from './support/tokens.js';

const LOAD_SECONDS = soakSeconds(process.env, 40);
const TENANTS = ['soak-a', 'soak-b', 'soak-c'];
const DEVICES_PER_TENANT = 6;
const HOSTILE = 'soak-hostile';
/** The gateway's default; set here so the long-write attack's bound is plain to see. */
const QUERY_TIMEOUT_MS = 10_000;
/** The gateway's default RATE_LIMIT_PER_MINUTE: bystanders keep well inside it (see DEVICE_INTERVAL_MS). */
const RATE_PER_MINUTE = 600;
// Each tenant's storage (every graph counts 1 MiB more than FalkorDB measures): the bystanders use a few MiB.
const STORAGE_QUOTA = '24MiB';
// 50,000 nodes of a 200-character property: about 11 MiB of graph per call.
const FILL_QUERY = 'UNWIND range(1, 50000) AS i CREATE (:Fill {i: i, pad: $pad})';
/** Each device starts at most one call per interval: 6 devices then use 60% of their tenant's rate. */
const DEVICE_INTERVAL_MS = Math.ceil((60_000 * DEVICES_PER_TENANT) / (0.6 * RATE_PER_MINUTE));
/** Hostile lanes, each going round the attack table at its own offset, one attack start per HOSTILE_PACE_MS at most. */
const HOSTILE_LANES = 3;
const HOSTILE_PACE_MS = 500;
/** Generous memory bounds (peak RSS): far above what a run takes, far below what an unbounded attack does (gigabytes). */
const GATEWAY_RSS_LIMIT = 768 * 1024 * 1024;
// The database runs the hostile tenant's heavy legal queries side by side (THREAD_COUNT is twice its
// cap): six 5,000,000-element lists at once hold about 80 MB of values and 45 MB of reply each. Peaks
// seen: 1.5 to 1.9 GB; the unbounded attacks take tens of GB.
const DATABASE_RSS_LIMIT = 3072 * 1024 * 1024;
/** Bad tokens come from another loopback address than everyone else (Linux answers on all of 127/8). */
const HOSTILE_ADDRESS = '127.0.0.2';
const SECRET = 'S3cr3t-soak-api-key-5d1e';
const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');

// ---------------------------------------------------------------------------
// The hostile tenant's attacks: one entry per noisy-neighbour attack that the
// gateway defends today. Each `run` makes one round of the attack and returns
// one outcome label per request (an error code, `ok`, `truncated`, `opened`).

interface Hostile {
  url: string;
  /** A device of the hostile tenant with `read` scope. */
  reader: Client;
  /** Deletes the graph the storage attack filled, so its other write attacks keep meeting their own defences. */
  admin: Client;
  /** A device with `read write` scope. */
  writer: Client;
  readToken: string;
  /** Tokens the gateway never signed, for the flood. */
  forged: string[];
  floodAgent: Agent;
  /** SSE sessions the hostile tenant keeps open until the end. */
  held: Array<() => void>;
}

interface Attack {
  /** What it is, numbered by kind of attack. */
  name: string;
  /** Outcomes that show the defence at work: at least one must be seen during the run. */
  defended: readonly string[];
  /** Share of the load time after which the attack starts (default 0). */
  startsAt?: number;
  run(h: Hostile): Promise<string[]>;
  /** Checked once the load is over, on the database's own connection. */
  afterwards?(db: { sendCommand(args: string[]): Promise<unknown> }, gateway: ServeProcess): Promise<void>;
}

const rep = (s: string, n: number): string => s.repeat(n);

async function query(client: Client, q: string, args: Record<string, unknown> = {}): Promise<string[]> {
  return [label(await callTool(client, 'falkordb_query', { graphName: 'loot', query: q, ...args }).catch(thrown))];
}

const ATTACKS: readonly Attack[] = [
  {
    name: '1. nested parentheses (read scope)',
    defended: ['QUERY_TOO_COMPLEX'],
    run: (h) => query(h.reader, `RETURN ${rep('(', 24)}1${rep(')', 24)}`),
  },
  {
    name: '1. NOT chain (read scope)',
    defended: ['QUERY_TOO_COMPLEX'],
    run: (h) => query(h.reader, `RETURN ${rep('NOT ', 24)}true`),
  },
  {
    name: '1. -( repeated (read scope)',
    defended: ['QUERY_TOO_COMPLEX'],
    run: (h) => query(h.reader, `RETURN ${rep('-(', 14)}1${rep(')', 14)}`),
  },
  {
    name: '2. long write with a TIMEOUT (bounded by TIMEOUT_MAX)',
    defended: ['QUERY_TIMEOUT'],
    // Asks for an hour; the gateway caps it at QUERY_TIMEOUT_MS, and TIMEOUT_MAX makes the database keep to it.
    run: async (h) => [
      label(
        await callTool(h.writer, 'falkordb_query', {
          graphName: 'sink',
          query: 'WITH range(1, 20000) AS r UNWIND r AS a UNWIND r AS b WITH a WHERE a * b < 0 CREATE (:N)',
          timeoutMs: 3_600_000,
        }).catch(thrown),
      ),
    ],
  },
  {
    name: '3. RETURN size(range(1, 5000000000)) (read scope)',
    defended: ['QUERY_TOO_COMPLEX'],
    run: (h) => query(h.reader, 'RETURN size(range(1, 5000000000)) AS n'),
  },
  {
    name: '3. a reduce() doubling a list 40 times (read scope)',
    defended: ['QUERY_TOO_COMPLEX'],
    run: (h) => query(h.reader, 'RETURN size(reduce(acc = [1], i IN range(1, 40) | acc + acc)) AS n'),
  },
  {
    name: '3. a 100,000 × 100,000 nested list comprehension (read scope)',
    defended: ['QUERY_TOO_COMPLEX'],
    run: (h) => query(h.reader, 'WITH range(1, 100000) AS a RETURN size([x IN a | [y IN a | 1]]) AS n'),
  },
  {
    name: '3. a list doubled over 30 WITH steps (read scope)',
    defended: ['QUERY_TOO_COMPLEX'],
    run: (h) => query(h.reader, `WITH [1] AS a ${rep('WITH a + a AS a ', 30)}RETURN size(a) AS n`),
  },
  {
    name: '4. UNWIND range(1, 3000000) AS x RETURN x (read scope)',
    defended: ['truncated'],
    run: (h) => query(h.reader, 'UNWIND range(1, 3000000) AS x RETURN x'),
  },
  {
    name: '6. many SSE sessions on one token',
    defended: ['SESSION_LIMIT'],
    run: (h) => openSessionsUntilRefused(h, 25),
  },
  {
    name: '7. parameter values with secrets',
    defended: ['ok'],
    run: async (h) => [
      ...(await query(h.reader, 'MATCH (n:Loot) WHERE n.key = $pw RETURN count(n) AS n', { parameters: { pw: SECRET } })),
      ...(await query(h.writer, 'MATCH (n:Loot) SET n.checked = $pw <> ""', { parameters: { pw: SECRET } })),
    ],
    afterwards: async (db, gateway) => {
      const stored = await databaseText(db);
      assert.ok(!stored.includes(SECRET), 'a parameter value was found in the database');
      assert.ok(!/telemetry\{/.test(stored), 'FalkorDB keeps a query log (telemetry{…})');
      assert.ok(!gateway.output().includes(SECRET), 'a parameter value was found in the gateway log');
    },
  },
  {
    name: '8. flood of bad tokens from one address',
    defended: ['AUTH_FAILURES_LIMITED'],
    run: (h) => floodBadTokens(h, 100, 8),
  },
  {
    name: '5. JSON-RPC batches of 100 tools/call over the rate limit',
    defended: ['RATE_LIMITED'],
    // Spends the tenant's whole budget for the minute, after which every attack is refused at admission:
    // late, so that the others meet their own defences first.
    startsAt: 0.7,
    run: (h) => batchesUntilRefused(h, 100, 12),
  },
  {
    name: '3. writes past the tenant storage quota',
    defended: ['STORAGE_QUOTA_EXCEEDED'],
    run: async (h) => {
      const outcomes: string[] = [];
      const fill = async (): Promise<string> =>
        label(await callTool(h.writer, 'falkordb_query', { graphName: 'fill', query: FILL_QUERY, parameters: { pad: rep('x', 200) } }).catch(thrown));
      for (let i = 0; i < 8 && !outcomes.includes('STORAGE_QUOTA_EXCEEDED'); i++) outcomes.push(await fill());
      // Over its quota the tenant still reads, and frees space by deleting.
      outcomes.push(label(await callTool(h.writer, 'falkordb_query', { graphName: 'fill', query: 'MATCH (n:Fill) RETURN count(n) AS n' }).catch(thrown)));
      outcomes.push(label(await callTool(h.admin, 'falkordb_delete_graph', { graphName: 'fill' }).catch(thrown)));
      return outcomes;
    },
  },
  {
    name: '4. a reply nested 2,000 levels deep (read scope)',
    defended: ['RESULT_TOO_DEEP'],
    run: (h) => query(h.reader, 'RETURN reduce(acc = [], i IN range(1, 1000) | [acc]) AS deep'),
  },
  {
    name: '4. six 5,000,000-element lists in one row each, at once (read scope)',
    defended: ['RESULT_TOO_LARGE'],
    run: async (h) => (await Promise.all(Array.from({ length: 6 }, () => query(h.reader, 'RETURN range(1, 5000000) AS r')))).flat(),
  },
  {
    name: '4. 10,000 rows of 1,000-element lists (read scope)',
    defended: ['RESULT_TOO_LARGE'],
    run: (h) => query(h.reader, 'WITH range(1, 1000) AS r UNWIND range(1, 10000) AS x RETURN r'),
  },
];

function label(outcome: ToolOutcome): string {
  if (!outcome.ok) return outcome.error?.code ?? 'UNKNOWN';
  return outcome.structured?.['truncated'] === true ? 'truncated' : 'ok';
}

/** The error code an HTTP refusal's body names (`{"error": "…", "code": "…"}`), else the status. */
function codeInBody(text: string, status: number | undefined): string {
  return /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? `HTTP ${status}`;
}

/** A call the SDK client threw for, e.g. on a 429 before any tool ran: labelled by the code in the refusal. */
function thrown(error: unknown): ToolOutcome {
  const message = error instanceof Error ? error.message : String(error);
  const code = /"code":"([A-Z_]+)"/.exec(message)?.[1] ?? `thrown: ${message.slice(0, 80)}`;
  return { ok: false, structured: undefined, text: message, error: { code, message } };
}

async function errorCodeOf(res: Response): Promise<string> {
  return codeInBody(await res.text().catch(() => ''), res.status);
}

async function openSessionsUntilRefused(h: Hostile, most: number): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < most; i++) {
    const controller = new AbortController();
    const res = await fetch(`${h.url}/sse`, { headers: { Authorization: `Bearer ${h.readToken}` }, signal: controller.signal }).catch(() => undefined);
    if (res === undefined) {
      outcomes.push('thrown');
      break;
    }
    if (res.status === 200) {
      // Held open (unread) until the end, the way a client that never closes them would. The
      // response stays referenced: fetch closes the connection of a body it collects as garbage.
      h.held.push(() => {
        void res.body?.cancel().catch(() => undefined);
        controller.abort();
      });
      outcomes.push('opened');
      continue;
    }
    outcomes.push(await errorCodeOf(res));
    break;
  }
  return outcomes;
}

function postFromHostileAddress(h: Hostile, token: string): Promise<string> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } });
  return new Promise((resolve) => {
    const req = request(
      `${h.url}/mcp`,
      { method: 'POST', agent: h.floodAgent, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(codeInBody(text, res.statusCode)));
        res.on('error', () => resolve('thrown'));
      },
    );
    req.on('error', () => resolve('thrown'));
    req.end(body);
  });
}

async function floodBadTokens(h: Hostile, count: number, inFlight: number): Promise<string[]> {
  const outcomes: string[] = [];
  let sent = 0;
  const sender = async (): Promise<void> => {
    while (sent < count) {
      const token = sent % 3 === 0 ? `not-a-jwt-${sent}` : h.forged[sent % h.forged.length]!;
      sent += 1;
      outcomes.push(await postFromHostileAddress(h, token));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, sender));
  return outcomes;
}

interface BatchReply {
  result?: { isError?: boolean; content?: Array<{ text?: string }> };
  error?: { message?: string };
}

async function batchesUntilRefused(h: Hostile, size: number, most: number): Promise<string[]> {
  const outcomes: string[] = [];
  const batch = Array.from({ length: size }, (_, i) => toolCall(i + 1, 'falkordb_query', { graphName: 'loot', query: 'UNWIND range(1, 100000) AS x RETURN sum(x) AS s' }));
  for (let round = 0; round < most; round++) {
    const res = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${h.readToken}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-03-26' },
      body: JSON.stringify(batch),
    }).catch(() => undefined);
    if (res === undefined) {
      outcomes.push('thrown');
      break;
    }
    if (res.status !== 200) {
      outcomes.push(await errorCodeOf(res));
      break;
    }
    const replies = (await res.json()) as BatchReply[];
    let refused = false;
    for (const reply of replies) {
      if (reply.error !== undefined) outcomes.push('jsonrpc error');
      else if (reply.result?.isError !== true) outcomes.push('ok');
      else {
        const code = (JSON.parse(reply.result.content?.[0]?.text ?? '{}') as { error?: { code?: string } }).error?.code ?? 'UNKNOWN';
        refused ||= code === 'RATE_LIMITED';
        outcomes.push(code);
      }
    }
    if (refused) break;
  }
  return outcomes;
}

// ---------------------------------------------------------------------------
// Bystanders: each device its own token and MCP client, one call per
// DEVICE_INTERVAL_MS at most, a mix of writes (each with a unique id) and reads
// that check what the device's earlier writes left.

interface Device {
  tenant: string;
  name: string;
  kind: Exclude<TransportKind, 'stdio'>;
  client: Client;
  random: () => number;
  acknowledged: string[];
}

interface BystanderError {
  tenant: string;
  device: string;
  op: string;
  detail: string;
}

const latencies: number[] = [];
const bystanderOps = new Tally();
const bystanderErrors: BystanderError[] = [];
const hostileOutcomes = new Map<string, Tally>();

async function deviceStep(d: Device, n: number): Promise<void> {
  const pick = d.random();
  const began = performance.now();
  let op = 'write';
  let problem: string | undefined;
  try {
    if (pick < 0.4 || d.acknowledged.length === 0) {
      const id = `${d.tenant}/${d.name}/${n}`;
      const out = await callTool(d.client, 'falkordb_query', { graphName: 'soak', query: 'CREATE (:Ack {id: $id, device: $device})', parameters: { id, device: d.name } });
      if (out.ok) d.acknowledged.push(id);
      else problem = out.text;
    } else if (pick < 0.65) {
      op = 'read back a write';
      const id = d.acknowledged[Math.floor(d.random() * d.acknowledged.length)]!;
      const out = await callTool(d.client, 'falkordb_query', { graphName: 'soak', query: 'MATCH (a:Ack {id: $id}) RETURN a.id AS id', parameters: { id } });
      if (!out.ok) problem = out.text;
      else if ((out.structured?.['rows'] as Array<{ id: unknown }>)[0]?.id !== id) problem = `acknowledged write ${id} not read back: ${out.text.slice(0, 200)}`;
    } else if (pick < 0.8) {
      op = 'count own writes';
      const atLeast = d.acknowledged.length;
      const out = await callTool(d.client, 'falkordb_query', { graphName: 'soak', query: 'MATCH (a:Ack) WHERE a.device = $device RETURN count(a) AS n', parameters: { device: d.name }, readOnly: true });
      if (!out.ok) problem = out.text;
      else if (Number((out.structured?.['rows'] as Array<{ n: unknown }>)[0]?.n) < atLeast) problem = `counted fewer than the ${atLeast} acknowledged writes: ${out.text.slice(0, 200)}`;
    } else if (pick < 0.9) {
      op = 'list graphs';
      const out = await callTool(d.client, 'falkordb_list_graphs');
      if (!out.ok) problem = out.text;
      else if (!(out.structured?.['graphs'] as string[]).includes('soak')) problem = `its graph is not listed: ${out.text.slice(0, 200)}`;
    } else {
      op = 'graph schema';
      const out = await callTool(d.client, 'falkordb_graph_schema', { graphName: 'soak' });
      if (!out.ok) problem = out.text;
    }
  } catch (error) {
    problem = `thrown: ${error instanceof Error ? error.message : String(error)}`;
  }
  latencies.push(performance.now() - began);
  bystanderOps.add(op);
  if (problem !== undefined) bystanderErrors.push({ tenant: d.tenant, device: d.name, op, detail: problem.slice(0, 300) });
}

async function runDevice(d: Device, until: number): Promise<void> {
  // Spread the devices' first calls over one interval.
  await sleep(d.random() * DEVICE_INTERVAL_MS);
  for (let n = 1; performance.now() < until; n++) {
    const began = performance.now();
    await deviceStep(d, n);
    await sleep(Math.max(0, DEVICE_INTERVAL_MS * (0.9 + 0.2 * d.random()) - (performance.now() - began)));
  }
}

/** Late attacks a lane has taken up: each runs first on the lane that finds it due, whatever that lane's turn. */
const lateStarted = new Set<string>();

async function runHostileLane(h: Hostile, lane: number, startedAt: number, until: number): Promise<void> {
  const due = (a: Attack): boolean => performance.now() - startedAt >= (a.startsAt ?? 0) * (until - startedAt);
  for (let i = lane * Math.ceil(ATTACKS.length / HOSTILE_LANES); performance.now() < until; i++) {
    const late = ATTACKS.find((a) => a.startsAt !== undefined && due(a) && !lateStarted.has(a.name));
    if (late !== undefined) lateStarted.add(late.name);
    const attack = late ?? ATTACKS[i % ATTACKS.length]!;
    if (!due(attack)) continue;
    const began = performance.now();
    const tally = hostileOutcomes.get(attack.name)!;
    for (const outcome of await attack.run(h).catch((e: unknown) => [`thrown: ${String(e).slice(0, 80)}`])) tally.add(outcome);
    await sleep(Math.max(0, HOSTILE_PACE_MS - (performance.now() - began)));
  }
}

// ---------------------------------------------------------------------------

let db: TestFalkorDB;
let gateway: ServeProcess;
let gatewayExit: number | null | undefined;
const devices: Device[] = [];
const hostileClients: Client[] = [];
let hostile: Hostile;
const summary: string[] = [];
const figures: Record<string, unknown> = {};
let peaks: Record<string, number> = {};
let watch: MemoryWatch;
const missingWrites: string[] = [];
let acknowledgedCount = 0;
let afterwardsFailures: string[] = [];

async function connectDevice(tenant: string, index: number): Promise<Device> {
  // One device per tenant over legacy SSE (header or ?token=), the rest over Streamable HTTP.
  const kind: Device['kind'] = index < DEVICES_PER_TENANT - 1 ? 'http' : TENANTS.indexOf(tenant) % 2 === 0 ? 'sse-header' : 'sse-query';
  const name = `device-${index + 1}`;
  const token = await signTestToken(tenant, { scope: 'read write', claims: { device: name } });
  const client = await connectClient(kind, gateway.url, token);
  return { tenant, name, kind, client, random: randomSource(TENANTS.indexOf(tenant) * 100 + index + 1), acknowledged: [] };
}

function write(line: string): void {
  summary.push(line);
}

describe(`soak: ${TENANTS.length} tenants × ${DEVICES_PER_TENANT} devices beside a hostile tenant, ${LOAD_SECONDS} s`, { timeout: (LOAD_SECONDS + 180) * 1000 }, () => {
  before(async () => {
    db = await startTestFalkorDB();
    gateway = await startServeProcess({ FALKORDB_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS), RATE_LIMIT_PER_MINUTE: String(RATE_PER_MINUTE), TENANT_STORAGE_QUOTA_BYTES: STORAGE_QUOTA, TENANT_STORAGE_CHECK_MS: '1000' });
    const dbPid = readEmbeddedState(db.dataDir)?.serverPid;
    assert.ok(dbPid !== undefined, 'the test database records no server pid');
    watch = new MemoryWatch({ gateway: gateway.pid, database: dbPid });
    await watch.start(500);

    for (const tenant of TENANTS) for (let i = 0; i < DEVICES_PER_TENANT; i++) devices.push(await connectDevice(tenant, i));
    // Each tenant's graph exists before anyone reads it: the first device's first write.
    for (const tenant of TENANTS) await deviceStep(devices.find((d) => d.tenant === tenant)!, 0);

    const readToken = await signTestToken(HOSTILE, { scope: 'read', claims: { device: 'reader' } });
    const writer = await connectClient('http', gateway.url, await signTestToken(HOSTILE, { scope: 'read write', claims: { device: 'writer' } }));
    const reader = await connectClient('http', gateway.url, readToken);
    const admin = await connectClient('http', gateway.url, await signTestToken(HOSTILE, { scope: 'read write admin', claims: { device: 'admin' } }));
    hostileClients.push(writer, reader, admin);
    assert.equal((await callTool(writer, 'falkordb_query', { graphName: 'loot', query: 'CREATE (:Loot {key: 1})' })).ok, true);
    const forged = await Promise.all(Array.from({ length: 10 }, (_, i) => signTestToken(`${HOSTILE}-${i}`, { secret: 'a-secret-the-gateway-does-not-know-32b' })));
    hostile = { url: gateway.url, reader, writer, admin, readToken, forged, floodAgent: new Agent({ keepAlive: true, localAddress: HOSTILE_ADDRESS, maxSockets: 8 }), held: [] };
    for (const attack of ATTACKS) hostileOutcomes.set(attack.name, new Tally());

    const startedAt = performance.now();
    const until = startedAt + LOAD_SECONDS * 1000;
    await Promise.all([...devices.map((d) => runDevice(d, until)), ...Array.from({ length: HOSTILE_LANES }, (_, lane) => runHostileLane(hostile, lane, startedAt, until))]);
    const loadSeconds = (performance.now() - startedAt) / 1000;

    for (const close of hostile.held) close();
    hostile.floodAgent.destroy();
    await Promise.allSettled([...devices.map((d) => d.client.close()), ...hostileClients.map((c) => c.close())]);
    peaks = await watch.stop();

    const direct = await connectDatabase({ url: db.url, connectTimeoutMs: 10_000, logger: testLogger() });
    try {
      for (const tenant of TENANTS) {
        const reply = (await direct.sendCommand(['GRAPH.RO_QUERY', tenantGraphKey(tenant, 'soak'), 'MATCH (a:Ack) RETURN a.id'])) as unknown[];
        const stored = new Set(((reply[1] ?? []) as unknown[][]).map((row) => String(row[0])));
        for (const d of devices.filter((x) => x.tenant === tenant)) {
          acknowledgedCount += d.acknowledged.length;
          for (const id of d.acknowledged) if (!stored.has(id)) missingWrites.push(id);
        }
      }
      const failures: string[] = [];
      for (const attack of ATTACKS) {
        await attack.afterwards?.(direct, gateway).catch((e: unknown) => failures.push(`${attack.name}: ${e instanceof Error ? e.message : String(e)}`));
      }
      afterwardsFailures = failures;
      figures['databaseUsedMemoryPeak'] = /^used_memory_peak:(\d+)/m.exec(String(await direct.sendCommand(['INFO', 'memory'])))?.[1];
    } finally {
      await direct.close();
    }

    figures['loadSeconds'] = Number(loadSeconds.toFixed(1));
    figures['bystanderCalls'] = latencies.length;
    figures['bystanderCallsByOp'] = Object.fromEntries(bystanderOps.counts);
    figures['p50Ms'] = Number(percentile(latencies, 50).toFixed(1));
    figures['p99Ms'] = Number(percentile(latencies, 99).toFixed(1));
    figures['maxMs'] = Number(percentile(latencies, 100).toFixed(1));
    figures['bystanderErrors'] = bystanderErrors.length;
    figures['acknowledgedWrites'] = acknowledgedCount;
    figures['missingWrites'] = missingWrites.length;
    figures['hostile'] = Object.fromEntries([...hostileOutcomes].map(([name, tally]) => [name, Object.fromEntries(tally.counts)]));
    figures['rssBytes'] = { gatewayStart: watch.first['gateway'], gatewayPeak: peaks['gateway'], databaseStart: watch.first['database'], databasePeak: peaks['database'] };

    write(`soak: ${TENANTS.length} tenants × ${DEVICES_PER_TENANT} devices (${devices.filter((d) => d.kind !== 'http').length} over SSE) and 1 hostile tenant, ${loadSeconds.toFixed(1)} s of load`);
    write(`bystanders: ${latencies.length} calls (${bystanderOps.toString()}), p50 ${figures['p50Ms']} ms, p99 ${figures['p99Ms']} ms, max ${figures['maxMs']} ms, errors ${bystanderErrors.length}`);
    write(`acknowledged writes: ${acknowledgedCount}, checked in the database, missing ${missingWrites.length}`);
    write(`gateway RSS: ${megabytes(watch.first['gateway']!)} at start, peak ${megabytes(peaks['gateway']!)} (limit ${megabytes(GATEWAY_RSS_LIMIT)})`);
    write(`database RSS: ${megabytes(watch.first['database']!)} at start, peak ${megabytes(peaks['database']!)} (limit ${megabytes(DATABASE_RSS_LIMIT)}); used_memory_peak ${megabytes(Number(figures['databaseUsedMemoryPeak'] ?? 0))}`);
    for (const [name, tally] of hostileOutcomes) write(`hostile ${name}: ${tally.total} requests: ${tally.toString() || 'none'}`);
    for (const e of bystanderErrors.slice(0, 10)) write(`bystander error: ${e.tenant} ${e.device} ${e.op}: ${e.detail}`);

    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(path.join(RESULTS_DIR, 'soak.txt'), `${summary.join('\n')}\n`);
    await writeFile(path.join(RESULTS_DIR, 'soak.json'), `${JSON.stringify({ ...figures, bystanderErrorSamples: bystanderErrors.slice(0, 10) }, null, 2)}\n`);

    gatewayExit = await gateway.stop();
  });

  after(async () => {
    // Only what before() did not get to (it failed half-way).
    for (const close of hostile?.held ?? []) close();
    hostile?.floodAgent.destroy();
    await Promise.allSettled([...devices.map((d) => d.client.close()), ...hostileClients.map((c) => c.close())]);
    if (gatewayExit === undefined) await gateway?.stop(5000);
    await db?.cleanup();
  });

  it('serves every bystander call without an error (the summary, also in test-results/soak.txt)', (t) => {
    for (const line of summary) t.diagnostic(line);
    assert.ok(latencies.length >= devices.length, 'the bystanders made calls');
    assert.deepEqual(bystanderErrors.slice(0, 10), []);
  });

  it('finds every acknowledged write in the database afterwards', () => {
    assert.ok(acknowledgedCount > 0, 'the bystanders wrote');
    assert.deepEqual(missingWrites, []);
  });

  it('keeps the gateway and the database within their memory bounds', () => {
    assert.ok(peaks['gateway']! < GATEWAY_RSS_LIMIT, `gateway peak RSS ${megabytes(peaks['gateway']!)} is over ${megabytes(GATEWAY_RSS_LIMIT)}`);
    assert.ok(peaks['database']! < DATABASE_RSS_LIMIT, `database peak RSS ${megabytes(peaks['database']!)} is over ${megabytes(DATABASE_RSS_LIMIT)}`);
  });

  it('meets each attack with its defence', () => {
    for (const attack of ATTACKS) {
      const tally = hostileOutcomes.get(attack.name)!;
      assert.ok(
        attack.defended.some((outcome) => tally.has(outcome)),
        `${attack.name}: none of ${attack.defended.join(', ')} among its outcomes (${tally.toString() || 'it never ran'})`,
      );
    }
  });

  it('keeps no parameter value anywhere in the database or the gateway log', () => {
    assert.deepEqual(afterwardsFailures, []);
  });

  it('shuts the gateway down cleanly after the load', () => {
    assert.equal(gatewayExit, 0, gateway.output().slice(-2000));
  });
});
