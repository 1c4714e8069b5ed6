// A ToolContext for unit tests of the tools: a caller of tenant `acme` with
// every scope, the configuration's default query limits, a FakeGraphOps and a log
// that is kept in memory.

import { Writable } from 'node:stream';
import type { Principal } from '../../src/tenancy/principal.js';
import { expandScopes, type Scope } from '../../src/tenancy/scopes.js';
import { createLogger } from '../../src/logger.js';
import type { ToolContext } from '../../src/tools/context.js';
import { FakeGraphOps } from './fake-graph-ops.js';

/** The query limits unit tests run with: the configuration's defaults, written out so no environment is read. */
export const UNIT_QUERY_LIMITS: ToolContext['limits'] = {
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

export interface UnitToolContext extends ToolContext {
  graphs: FakeGraphOps;
  /** The log lines written through ctx.logger, parsed. */
  logLines: Array<Record<string, unknown>>;
}

export function unitToolContext(overrides: Partial<ToolContext> & { graphs?: FakeGraphOps } = {}): UnitToolContext {
  const logLines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return {
    principal: principalOf('acme'),
    graphs: new FakeGraphOps(),
    limits: UNIT_QUERY_LIMITS,
    versions: { gateway: '0.0.0-test', falkordb: '4.16.3' },
    logger: createLogger('info', stream),
    requestId: 'req-1',
    ...overrides,
    logLines,
  } as UnitToolContext;
}
