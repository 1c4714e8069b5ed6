// `tenant export | import`: one tenant's graphs to a portable file and back, on
// the same server or another. Progress goes to stderr; stdout carries only the
// summary (or, with `--out -`, the file itself).

import type { Command } from 'commander';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { parseGraphPatterns } from '../tenancy/graph-rules.js';
import { storageQuotaOf } from '../admission/storage-quota.js';
import { GatewayError } from '../errors.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { exportTenant, type GraphSummary } from '../transfer/export.js';
import type { TransferRecord } from '../transfer/format.js';
import { importTenant, type ConflictMode } from '../transfer/import.js';
import { mustKnowTenant, tenantDatabase, withCliContext } from './context.js';
import { formatTable, printJson, printLines, stdoutIsClosed, writeOut } from './output.js';
import { runCommand } from './run.js';

interface ExportOptions {
  out: string;
  graphs: string[];
  json?: boolean;
  quiet?: boolean;
}

interface ImportOptions {
  in: string;
  renameTenant?: string;
  onConflict: string;
  json?: boolean;
  quiet?: boolean;
}

const FLUSH_BYTES = 1 << 20;

/** Where export lines go: FILE.partial, renamed to FILE only once complete; or stdout. */
interface Sink {
  write(record: TransferRecord): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

async function fileSink(file: string): Promise<Sink> {
  const partial = `${file}.partial`;
  let handle: FileHandle;
  try {
    handle = await open(partial, 'w', 0o600);
  } catch (error) {
    throw new GatewayError('REQUEST_INVALID', `Cannot write ${partial}: ${(error as { code?: string }).code ?? String(error)}; choose another --out.`);
  }
  let buffer: string[] = [];
  let size = 0;
  const flush = async () => {
    if (buffer.length === 0) return;
    const chunk = buffer.join('');
    buffer = [];
    size = 0;
    await handle.write(chunk);
  };
  return {
    async write(record) {
      const line = `${JSON.stringify(record)}\n`;
      buffer.push(line);
      size += line.length;
      if (size >= FLUSH_BYTES) await flush();
    },
    async commit() {
      await flush();
      await handle.sync();
      await handle.close();
      await rename(partial, file);
    },
    async abort() {
      await handle.close().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}

function stdoutSink(): Sink {
  return {
    async write(record) {
      await writeOut(`${JSON.stringify(record)}\n`);
    },
    async commit() {},
    async abort() {},
  };
}

function progress(quiet: boolean | undefined): ((message: string) => void) | undefined {
  return quiet ? undefined : (message) => process.stderr.write(`${message}\n`);
}

function table(graphs: readonly GraphSummary[]): string {
  return formatTable(['GRAPH', 'NODES', 'RELATIONSHIPS', 'INDEXES', 'CONSTRAINTS'], graphs.map((g) => [g.name, String(g.nodes), String(g.relationships), String(g.indexes), String(g.constraints)]));
}

async function exportCommand(id: string, options: ExportOptions): Promise<void> {
  const tenant = validateTenantId(id);
  const patterns = options.graphs.length === 0 ? undefined : parseGraphPatterns(options.graphs);
  const toStdout = options.out === '-';
  if (toStdout && options.json) throw new GatewayError('REQUEST_INVALID', '--json prints a summary on stdout, which --out - uses for the file; leave one of them out.');
  await withCliContext(process.env, async (ctx) => {
    // Before any file exists: a typed name that is no tenant must not leave an empty backup behind.
    await mustKnowTenant(ctx, tenant);
    const sink = toStdout ? stdoutSink() : await fileSink(options.out);
    let result: Awaited<ReturnType<typeof exportTenant>>;
    try {
      const placed = await tenantDatabase(ctx, tenant);
      result = await exportTenant({ db: placed.db, graphs: placed.graphs, tenant, patterns, write: (r) => sink.write(r), progress: progress(options.quiet) });
      await sink.commit();
    } catch (error) {
      await sink.abort();
      // The reader of stdout has what it wanted (`--out - | head`): not a failure of the export.
      if (toStdout && stdoutIsClosed()) return;
      throw error;
    }
    const summary = { tenant, file: toStdout ? '-' : options.out, graphs: result.graphs };
    if (options.json) return printJson(summary);
    const text = [
      result.graphs.length === 0 ? `Tenant "${tenant}" has no graph${patterns === undefined ? '' : ' matching --graphs'}; the file holds none.` : table(result.graphs),
      toStdout ? '' : `Wrote ${options.out}. Restore with: falkordb-mcp-gateway tenant import ${tenant} --in ${options.out}`,
    ].filter((l) => l !== '');
    if (toStdout) process.stderr.write(`${text.join('\n')}\n`);
    else printLines(...text);
  });
}

function conflictMode(value: string): ConflictMode {
  if (value !== 'fail' && value !== 'replace') throw new GatewayError('REQUEST_INVALID', `--on-conflict must be fail or replace; got ${JSON.stringify(value.slice(0, 40))}.`);
  return value;
}

async function importCommand(id: string, options: ImportOptions): Promise<void> {
  const tenant = validateTenantId(id);
  const target = options.renameTenant === undefined ? tenant : validateTenantId(options.renameTenant);
  const onConflict = conflictMode(options.onConflict);
  await withCliContext(process.env, async (ctx) => {
    const storageQuotaBytes = storageQuotaOf(await ctx.state.tenants.get(target), ctx.config.limits.storageQuotaBytes);
    const result = await importTenant({ db: (await tenantDatabase(ctx, target)).db, file: options.in, tenant, targetTenant: target, onConflict, storageQuotaBytes, progress: progress(options.quiet) });
    await ctx.state.audit.record({ event: 'tenant_changed', tenant: target, actor: 'cli', detail: `imported ${result.graphs.length} graph(s) from ${tenant === target ? 'an export' : `an export of tenant ${tenant}`}${result.replaced.length === 0 ? '' : `, replacing ${result.replaced.join(',')}`}` });
    if (options.json) return printJson(result);
    printLines(
      result.graphs.length === 0 ? 'The file holds no graph; nothing was imported.' : table(result.graphs),
      `Imported ${result.graphs.length} graph(s) for tenant "${target}"${result.replaced.length === 0 ? '' : `, replacing ${result.replaced.map((g) => `"${g}"`).join(', ')}`}.`,
    );
  });
}

/** Repeatable option, kept as typed (parseGraphPatterns splits comma-separated lists). */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerTenantTransferCommands(tenant: Command): void {
  tenant
    .command('export')
    .argument('<id>', 'the tenant id')
    .description("Write the tenant's graphs (nodes, relationships, properties with their types, indexes, constraints) to a portable, versioned JSON Lines file; for one tenant's backup, restore or move. Reads a snapshot of each graph in batches, so graphs larger than memory export.")
    .requiredOption('--out <file>', 'the file to write (written as FILE.partial and renamed when complete); - for stdout')
    .option('--graphs <patterns>', "only graphs matching these patterns, `*` matching any run of characters (e.g. 'sales_*'); repeatable or comma-separated", collect, [])
    .option('--json', 'print a JSON summary {tenant, file, graphs}')
    .option('--quiet', 'no progress on stderr')
    .action((id: string, options: ExportOptions) => runCommand(() => exportCommand(id, options)));

  tenant
    .command('import')
    .argument('<id>', 'the tenant the file holds (as exported)')
    .description('Load a file written by `tenant export`, on this server or another. Checks the whole file first, loads into scratch graphs no tenant can see, and puts the graphs in place only when all loaded; a failure leaves existing graphs untouched.')
    .requiredOption('--in <file>', 'the export file')
    .option('--rename-tenant <new>', 'import the graphs as this tenant instead')
    .option('--on-conflict <mode>', 'fail: refuse, writing nothing, when a graph exists; replace: replace existing graphs', 'fail')
    .option('--json', 'print a JSON summary {tenant, fromTenant, graphs, replaced}')
    .option('--quiet', 'no progress on stderr')
    .action((id: string, options: ImportOptions) => runCommand(() => importCommand(id, options)));
}
