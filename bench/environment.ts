// The systems under test, started once per run: FalkorDB (the embedded launcher, as the
// tests start it), the gateway (compiled, in its own process), the official MCP server,
// the floors, the load process.

import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { FalkorDB } from 'falkordb';
import { readGraphModuleVersion } from '../src/falkordb/connection.js';
import { queryThreads } from '../src/falkordb/db-limits.js';
import { startTestFalkorDB, type TestFalkorDB } from '../test/support/falkordb.js';
import { startTestGateway } from '../test/support/gateway.js';
import { LoadProcess } from './load-client.js';
import type { Outcomes } from './outcomes.js';
import { CONCURRENCY } from './plan.js';
import { WindowProfiler } from './profiler.js';
import type { Endpoints, SystemName } from './protocol.js';
import { startFloorServer, type FloorServer } from './systems/floor-server.js';
import { buildGateway, startGatewayServer, type GatewayServer } from './systems/gateway-server.js';
import { startOtlpSink, type OtlpSink } from './systems/otlp-sink.js';
import { startOfficialServer, type OfficialServer } from './systems/official-server.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/** Lanes of the busiest cell: one tenant's calls at once. */
const MOST_LANES = Math.max(...CONCURRENCY);

/**
 * The gateway as a load test needs it: no rate limit, the per-tenant cap at the highest
 * concurrency (so that one tenant's 64 lanes never queue), no metrics listener.
 */
export const GATEWAY_ENV = {
  RATE_LIMIT_PER_MINUTE: '0',
  MAX_CONCURRENT_QUERIES_PER_TENANT: String(MOST_LANES),
  MAX_CONCURRENT_QUERIES: '1024',
  METRICS_PORT: 'off',
};

/** The query threads the gateway requires for GATEWAY_ENV's per-tenant cap (DATABASE_LIMITS), as the embedded server would get. */
export const FALKORDB_THREADS = queryThreads(MOST_LANES);

/**
 * The second gateway (system gateway-acl): the same, plus a database user per tenant. Its pool
 * is sized above the 1,000 tenants the acl target is measured at, as docs/deployment.md advises
 * (ACL_POOL_MAX above the tenants active at once; the default, 500, would open a connection and
 * AUTH on nearly every call of a round-robin over 1,000); at 10,000 tenants it still evicts.
 */
export const GATEWAY_ACL_ENV = { TENANT_ISOLATION: 'acl', ACL_USER_SECRET: 'bench-acl-user-secret-0123456789abcdef', ACL_POOL_MAX: '2000' };

/** The third gateway (system gateway-otel): the same, tracing 1 % of its calls to the sink at OTEL_EXPORTER_OTLP_ENDPOINT. */
export const GATEWAY_OTEL_ENV = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' };

export interface Running {
  falkordb: TestFalkorDB;
  /** A connection of the benchmark's own, for data, INFO and CONFIG. */
  admin: FalkorDB;
  falkordbPid: number | undefined;
  /** e.g. "valkey-server 8.0.1" */
  serverName: string;
  /** FalkorDB's module version, e.g. "4.16.3". */
  moduleVersion: string;
  /** Compiled and in a process of its own; in this process (from the TypeScript source) with --profile. */
  gateway: GatewayServer;
  gatewayAcl: GatewayServer;
  gatewayOtel: GatewayServer;
  /** The OTLP receiver gatewayOtel exports to. */
  otlpSink: OtlpSink;
  official: OfficialServer | undefined;
  floor: FloorServer | undefined;
  floorSdk: FloorServer | undefined;
  load: LoadProcess;
  endpoints: Endpoints;
  profiler: WindowProfiler | undefined;
  /** Starts one more gateway like the first, with `env` on top of GATEWAY_ENV (for a cell that needs other settings). */
  startGateway(env: Record<string, string>): Promise<GatewayServer>;
}

/** The child process serving a system, when it has one: the official server or a floor. */
function childOf(run: Running, system: SystemName): OfficialServer | FloorServer | undefined {
  return system.startsWith('official') ? run.official : system === 'floor' ? run.floor : system === 'floor-sdk' ? run.floorSdk : undefined;
}

/** Whether a system can be measured: the direct client and the gateways always can, the others when their server started. */
export function isRunning(run: Running, system: SystemName): boolean {
  return system === 'direct' || system.startsWith('gateway') || childOf(run, system) !== undefined;
}

/** The process whose CPU a system's calls cost; undefined for the direct client. */
export function serverPidOf(run: Running, system: SystemName): number | undefined {
  if (system === 'gateway-acl') return run.gatewayAcl.pid;
  if (system === 'gateway-otel') return run.gatewayOtel.pid;
  return system.startsWith('gateway') ? run.gateway.pid : childOf(run, system)?.pid;
}

// Memory is read after a full GC, which plain `tsx bench/run.ts` cannot ask for otherwise.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** --profile: the gateway in this process, where the window profiler can see it. */
async function startInProcess(falkordbUrl: string, env: Record<string, string>): Promise<GatewayServer> {
  const gateway = await startTestGateway(falkordbUrl, env);
  const collect = async () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  return { url: gateway.url, pid: process.pid, collect, stop: () => gateway.stop() };
}

export function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

export async function startSystems(needsOfficial: boolean, needsFloor: boolean, profile: boolean, outcomes: Outcomes): Promise<Running> {
  const falkordb = await startTestFalkorDB({ threads: FALKORDB_THREADS });
  const admin = await FalkorDB.connect({ url: falkordb.url });
  const conn = await admin.connection;
  // No snapshot or AOF rewrite may fork in the middle of a timed window.
  await conn.sendCommand(['CONFIG', 'SET', 'save', '']);
  await conn.sendCommand(['CONFIG', 'SET', 'appendonly', 'no']);
  const info = String(await conn.sendCommand(['INFO', 'server']));
  const falkordbPid = Number(infoField(info, 'process_id')) || undefined;
  const valkey = infoField(info, 'valkey_version');
  const serverName = valkey !== undefined ? `valkey-server ${valkey}` : `redis-server ${infoField(info, 'redis_version') ?? '?'}`;
  const moduleVersion = (await readGraphModuleVersion(conn)) ?? 'unknown';
  const load = new LoadProcess();
  if (!profile) buildGateway();
  const startGateway = profile ? startInProcess : startGatewayServer;
  const gateway = await startGateway(falkordb.url, GATEWAY_ENV);
  const gatewayAcl = await startGateway(falkordb.url, { ...GATEWAY_ENV, ...GATEWAY_ACL_ENV });
  const otlpSink = await startOtlpSink();
  const gatewayOtel = await startGateway(falkordb.url, { ...GATEWAY_ENV, ...GATEWAY_OTEL_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: otlpSink.url });
  let official: OfficialServer | undefined;
  if (needsOfficial) {
    official = await startOfficialServer(falkordb.url).catch((error: unknown) => {
      outcomes.problems.push(`The official server (@falkordb/mcpserver) could not be started: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
  }
  const startFloor = (mode: 'plain' | 'sdk') =>
    startFloorServer(falkordb.url, mode).catch((error: unknown) => {
      outcomes.problems.push(`The floor server (${mode}) could not be started: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
  const floor = needsFloor ? await startFloor('plain') : undefined;
  const floorSdk = needsFloor ? await startFloor('sdk') : undefined;
  const endpoints: Endpoints = {
    falkordbUrl: falkordb.url,
    gatewayUrl: gateway.url,
    gatewayAclUrl: gatewayAcl.url,
    gatewayOtelUrl: gatewayOtel.url,
    ...(official === undefined ? {} : { officialUrl: official.url }),
    ...(floor === undefined ? {} : { floorUrl: floor.url }),
    ...(floorSdk === undefined ? {} : { floorSdkUrl: floorSdk.url }),
  };
  const profiler = profile ? new WindowProfiler(path.join(REPO_ROOT, 'bench', 'profiles')) : undefined;
  const startAnother = (env: Record<string, string>) => startGateway(falkordb.url, { ...GATEWAY_ENV, ...env });
  return { falkordb, admin, falkordbPid, serverName, moduleVersion, gateway, gatewayAcl, gatewayOtel, otlpSink, official, floor, floorSdk, load, endpoints, profiler, startGateway: startAnother };
}

export async function stopSystems(run: Running): Promise<void> {
  run.profiler?.close();
  await run.load.stop().catch(() => undefined);
  await run.official?.stop().catch(() => undefined);
  await run.floor?.stop().catch(() => undefined);
  await run.floorSdk?.stop().catch(() => undefined);
  await run.gateway.stop().catch(() => undefined);
  await run.gatewayAcl.stop().catch(() => undefined);
  await run.gatewayOtel.stop().catch(() => undefined);
  const sent = run.otlpSink.received();
  process.stdout.write(`gateway-otel exported ${sent.exports} batches of spans (${sent.bytes} bytes) to the OTLP receiver\n`);
  await run.otlpSink.stop().catch(() => undefined);
  await run.admin.close().catch(() => undefined);
  await run.falkordb.cleanup().catch(() => undefined);
}
