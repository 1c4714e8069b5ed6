// `tenant move ID --to TARGET`: moves a tenant's graphs to another database while
// its callers go on (src/transfer/move.ts). Progress goes to stderr; stdout carries
// only the summary.

import type { Command } from 'commander';
import { DEFAULT_TARGET } from '../config/index.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { unknownTarget } from '../placement.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { moveTenant, type MoveEnd, type MoveSummary } from '../transfer/move.js';
import { databaseOf, withCliContext, type CliContext } from './context.js';
import { formatTable, printJson, printLines } from './output.js';
import { runCommand } from './run.js';

interface MoveCliOptions {
  to: string;
  json?: boolean;
  quiet?: boolean;
}

const nameOf = (placement: string | undefined) => placement ?? DEFAULT_TARGET;

/** The database `placement` names, reachable now; a failure says that nothing was moved. */
async function endOf(ctx: CliContext, placement: string | undefined): Promise<MoveEnd> {
  try {
    const { db, graphs } = await databaseOf(ctx, placement);
    await db.ping(ctx.config.falkordb.connectTimeoutMs);
    return { name: nameOf(placement), db, graphs };
  } catch (error) {
    const reason = isGatewayError(error) ? error.message : error instanceof Error ? error.message : String(error);
    throw new GatewayError(isGatewayError(error) ? error.code : 'DATABASE_UNREACHABLE', `Nothing was moved: database ${nameOf(placement)} cannot be reached: ${reason}`, {}, { cause: error });
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function printSummary(result: MoveSummary): void {
  const rows = result.graphs.map((g) => [g.name, String(g.nodes), String(g.relationships), String(g.indexes), String(g.constraints)]);
  printLines(
    ...(rows.length === 0 ? [] : [formatTable(['GRAPH', 'NODES', 'RELATIONSHIPS', 'INDEXES', 'CONSTRAINTS'], rows)]),
    `Moved tenant "${result.tenant}" from ${result.from} to ${result.to}: ${result.graphs.length} graph(s), ${result.nodes} nodes, ${result.relationships} relationships, in ${seconds(result.tookMs)}.`,
    `Writes were paused for ${seconds(result.writesPausedMs)} at the switch-over (refused as TENANT_MOVING, retryable); reads went on throughout.`,
    `Every gateway instance serves the tenant from ${result.to} within 1 second; its graphs on ${result.from} were deleted.`,
    ...(result.leftovers.length === 0 ? [] : [`Replaced ${result.leftovers.length} graph(s) an earlier, failed move had left on ${result.to}.`]),
  );
}

async function moveCommand(id: string, options: MoveCliOptions): Promise<void> {
  const tenant = validateTenantId(id);
  await withCliContext(process.env, async (ctx) => {
    const record = await ctx.state.tenants.mustGet(tenant);
    const placement = options.to === DEFAULT_TARGET ? undefined : options.to;
    if (placement !== undefined && ctx.config.targets[placement] === undefined) throw unknownTarget(ctx.config, placement);
    if (record.database === placement) {
      throw new GatewayError('STATE_CONFLICT', `Tenant "${tenant}" is on ${nameOf(placement)} already; nothing was moved. See where it is with \`tenant show ${tenant}\`.`);
    }
    const from = await endOf(ctx, record.database);
    const to = await endOf(ctx, placement);
    const progress = options.quiet ? undefined : (message: string) => process.stderr.write(`${message}\n`);
    const result = await moveTenant({ tenants: ctx.state.tenants, store: ctx.state.store, tenant, from, to, fromPlacement: record.database, placement, queryTimeoutMs: ctx.config.query.timeoutMs, progress });
    await ctx.state.audit.record({ event: 'tenant_changed', tenant, actor: 'cli', detail: `moved from ${result.from} to ${result.to}, ${result.graphs.length} graph(s)` });
    if (options.json) printJson(result);
    else printSummary(result);
    if (result.cleanupFailed !== undefined) {
      process.stderr.write(`falkordb-mcp-gateway: tenant "${tenant}" was moved to ${result.to}, but ${result.cleanupFailed}\n`);
      process.exitCode = 1;
    }
  });
}

export function registerTenantMoveCommand(tenant: Command): void {
  tenant
    .command('move')
    .argument('<id>', 'the tenant id')
    .requiredOption('--to <target>', 'the database to move to: a name from DATABASE_TARGETS, or default (the shared database)')
    .description(
      "Move the tenant's graphs to another database while its clients go on: copies every graph, pauses its writes for a few seconds (refused as TENANT_MOVING, retryable; reads go on) while it copies what changed, switches every instance to the new database at once, then deletes the old copies. A move that fails, or is stopped, changes nothing the tenant sees.",
    )
    .option('--json', 'print a JSON summary {tenant, from, to, graphs, nodes, relationships, writesPausedMs, tookMs, leftovers}')
    .option('--quiet', 'no progress on stderr')
    .action((id: string, options: MoveCliOptions) => runCommand(() => moveCommand(id, options)));
}
