// Messages between the orchestrator (run.ts, which hosts the gateway) and the
// load process (load-process.ts, which plays the clients).

import type { LoadResult } from './runner.js';

/**
 * Every system the load cells measure; each has a client in systems/index.ts and a label in report.ts.
 * The gateway's client lanes are gateway-raw (lean raw JSON-RPC, the one the targets use) and
 * gateway-sdk (the MCP SDK's Client, 2025-era). A lane for a 2026-07-28-era client goes here
 * (e.g. 'gateway-modern'), with its factory in systems/index.ts; plan.ts runs it beside gateway-sdk.
 */
export const SYSTEMS = ['direct', 'floor', 'floor-sdk', 'gateway-raw', 'gateway-otel', 'gateway-acl', 'gateway-sdk', 'official-raw', 'official-sdk'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const WORKLOADS = ['return1', 'read1hop', 'write'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface Endpoints {
  /** `redis://:PASSWORD@127.0.0.1:PORT` */
  falkordbUrl: string;
  /** Base URL of the gateway, e.g. http://127.0.0.1:PORT */
  gatewayUrl: string;
  /** Base URL of a second gateway with TENANT_ISOLATION=acl (system gateway-acl). */
  gatewayAclUrl?: string;
  /** Base URL of a third gateway with tracing on at 1 % sampling (system gateway-otel). */
  gatewayOtelUrl?: string;
  /** URL of the floor server (plain node:http in front of the falkordb client), when it runs. */
  floorUrl?: string | undefined;
  /** URL of the floor server behind the MCP SDK's server, when it runs. */
  floorSdkUrl?: string;
  /** MCP URL of the official server, when it runs. */
  officialUrl?: string;
}

export interface LoadJob {
  kind: 'load';
  system: SystemName;
  workload: WorkloadName;
  concurrency: number;
  /** Calls are spread round-robin over this many tenants (see dataset.ts). */
  tenants: number;
  warmupMs: number;
  durationMs: number;
  /** Stop after this many calls (or at the end of the window, whichever comes first); for unmeasured passes. */
  maxCalls?: number;
  endpoints: Endpoints;
}

/** Open `count` long-lived streams and keep them open until `release`. */
export interface HoldJob {
  kind: 'hold';
  target: 'gateway-sse' | 'official-session';
  count: number;
  endpoints: Endpoints;
}

/** Requests that stop before a tool runs, each sent to a gateway back to back (which gateway: cells.ts, REQUEST_GATEWAYS). */
export const REQUESTS = ['healthz', 'tools-list', 'no-token', 'bad-token', 'bad-token-limited'] as const;
export type RequestName = (typeof REQUESTS)[number];

/** One kind of request in a closed loop (no tool call, no tenant data). */
export interface RequestJob {
  kind: 'request';
  request: RequestName;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  endpoints: Endpoints;
}

export type Job = LoadJob | RequestJob | HoldJob | { kind: 'release' } | { kind: 'exit' };

export type Reply =
  | { kind: 'window'; edge: 'start' | 'end' }
  | { kind: 'result'; result: LoadResult; clientCpuMs: number }
  | { kind: 'held'; opened: number; failed: number; firstError?: string }
  | { kind: 'released' }
  | { kind: 'error'; message: string };
