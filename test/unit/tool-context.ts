// Tool calls for unit tests of the tools, through the real registration and
// call path (tools/call.ts): a caller of tenant `acme` with every scope, the
// configuration's default query limits, a FakeGraphOps, and the records, the
// in-flight count and the log kept in memory.

import { Writable } from 'node:stream';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import type { Principal } from '../../src/tenancy/principal.js';
import { expandScopes, type Scope } from '../../src/tenancy/scopes.js';
import { InFlight } from '../../src/in-flight.js';
import { createLogger } from '../../src/logger.js';
import type { ToolCallRecord } from '../../src/observability/tool-call.js';
import { callTool, registerTool } from '../../src/tools/call.js';
import type { Caller, ToolServices } from '../../src/tools/context.js';
import type { ToolDefinition } from '../../src/tools/definition.js';
import { FakeGraphOps } from './fake-graph-ops.js';

/** The query limits unit tests run with: the configuration's defaults, written out so no environment is read. */
export const UNIT_QUERY_LIMITS: ToolServices['limits'] = {
  timeoutMs: 10_000,
  memoryMaxBytes: 1024 * 1024 * 1024,
  maxRows: 10_000,
  maxResultBytes: 1024 * 1024,
  maxReplyBytes: 4 * 1024 * 1024,
  maxQueryLength: 100_000,
  allowLoadCsv: false,
  exactFloats: true,
  maxParametersBytes: 64 * 1024,
};

export function principalOf(tenant: string, scopes: readonly Scope[] = ['admin'], extra: Partial<Principal> = {}): Principal {
  return { tenant, subject: tenant, scopes: expandScopes(scopes), expiresAt: Math.floor(Date.now() / 1000) + 3600, ...extra };
}

export interface UnitCalls {
  graphs: FakeGraphOps;
  /** One record per finished call, as the audit trail gets them. */
  records: ToolCallRecord[];
  /** Calls begun and not ended. */
  inFlight: InFlight;
  /** The log lines written through the services' logger, parsed. */
  logLines: Array<Record<string, unknown>>;
  /** Calls `tool` with `args` as a tools/call of the unit caller would (request id `req-1`). */
  call<In extends z.ZodRawShape>(tool: ToolDefinition<In>, args: Record<string, unknown>): Promise<CallToolResult>;
}

export interface UnitOverrides {
  principal?: Principal;
  graphs?: FakeGraphOps;
  limits?: ToolServices['limits'];
  admit?: ToolServices['admit'];
}

export function unitCalls(overrides: UnitOverrides = {}): UnitCalls {
  const logLines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const graphs = overrides.graphs ?? new FakeGraphOps();
  const records: ToolCallRecord[] = [];
  const inFlight = new InFlight();
  const services: ToolServices = {
    graphAccess: () => graphs,
    limits: overrides.limits ?? UNIT_QUERY_LIMITS,
    versions: { gateway: '0.0.0-test', falkordb: '4.16.3' },
    logger: createLogger('info', stream),
    inFlight,
    admit: overrides.admit ?? (() => Promise.resolve()),
    record: (_caller, record) => records.push(record),
    graphRules: () => Promise.resolve(undefined),
  };
  const caller: Caller = { principal: overrides.principal ?? principalOf('acme'), prepaidCalls: 0 };
  return {
    graphs,
    records,
    inFlight,
    logLines,
    call: (tool, args) => callTool(registerTool(tool), args, caller, services, 'req-1'),
  };
}
