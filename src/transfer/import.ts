// `tenant import`: checks the whole file first (nothing is written for a bad
// file), refuses up front when a target graph exists and --on-conflict is fail,
// loads every graph into a scratch key no tenant can reach, and only when all
// of them loaded copies each into place. A failure at any point before that
// deletes the scratch graphs and leaves the tenant's graphs as they were.

import { createCacheVersions } from '../cache/versions.js';
import { GatewayError } from '../errors.js';
import type { Database } from '../falkordb/database.js';
import { GraphClient } from '../falkordb/graphs.js';
import { graphsStorageBytes } from '../falkordb/storage.js';
import { formatSize } from '../size.js';
import { tenantGraphKey, tenantKeyPrefix } from '../tenancy/keys.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import type { GraphSummary } from './export.js';
import { DEFAULT_LOAD_BATCH, GraphLoader } from './load-graph.js';
import { checkTransferFile, readTransferFile } from './reader.js';
import { newTransferRunId, scratchGraphKey } from './scratch-key.js';
import { copyGraph, dropGraph, graphExists } from './server.js';

export type ConflictMode = 'fail' | 'replace';

export interface ImportOptions {
  db: Database;
  file: string;
  /** The tenant the file must hold (the command's ID argument). */
  tenant: string;
  /** The tenant whose graphs are written (`--rename-tenant`, else `tenant`). */
  targetTenant: string;
  onConflict: ConflictMode;
  progress?: ((message: string) => void) | undefined;
  /**
   * The target tenant's storage quota in bytes (its own, else TENANT_STORAGE_QUOTA_BYTES); 0 or absent: none.
   * The import is refused, writing nothing, when the tenant's graphs would take more than this after it.
   */
  storageQuotaBytes?: number;
  /** Records per load query; small values exercise batching in tests. */
  batchSize?: number;
}

export interface ImportSummary {
  tenant: string;
  fromTenant: string;
  graphs: GraphSummary[];
  replaced: string[];
}

async function existingTargets(db: Database, tenant: string, graphs: readonly string[]): Promise<string[]> {
  const existing: string[] = [];
  for (const graph of graphs) if (await graphExists(db, tenantGraphKey(tenant, graph))) existing.push(graph);
  return existing;
}

/** `bytes`: what the tenant's graphs would take after the import (`already`: before it, and that is too much already). */
function importOverQuota(tenant: string, bytes: number, quota: number, already: boolean): GatewayError {
  const what = already ? `tenant "${tenant}" already stores ${formatSize(bytes)}, at or over` : `with this file's graphs tenant "${tenant}" would store ${formatSize(bytes)}, over`;
  return new GatewayError(
    'STORAGE_QUOTA_EXCEEDED',
    `Nothing was imported: ${what} its storage quota of ${formatSize(quota)}. Delete some of its graphs first, import fewer (tenant export --graphs), or raise the quota: falkordb-mcp-gateway tenant set ${tenant} --storage-quota SIZE.`,
    { usedBytes: String(bytes), quotaBytes: String(quota) },
  );
}

function conflict(tenant: string, graphs: readonly string[]): GatewayError {
  return new GatewayError(
    'GRAPH_EXISTS',
    `Tenant "${tenant}" already has ${graphs.length === 1 ? 'graph' : 'graphs'} ${graphs.map((g) => `"${g}"`).join(', ')}; nothing was imported. Add --on-conflict replace to replace ${graphs.length === 1 ? 'it' : 'them'}, or --rename-tenant to import as another tenant.`,
  );
}

async function loadAll(options: ImportOptions, scratch: Map<string, string>, summaries: GraphSummary[]): Promise<void> {
  const { db, file } = options;
  let loader: GraphLoader | undefined;
  for await (const { line, record } of readTransferFile(file)) {
    switch (record.kind) {
      case 'graph': {
        const key = scratch.get(record.name);
        if (key === undefined) throw new GatewayError('TRANSFER_FILE_INVALID', `${file}, line ${line}: graph "${record.name}" is not in the header; nothing was imported.`);
        options.progress?.(`graph "${record.name}": loading`);
        loader = new GraphLoader(db, key, record.name, options.batchSize ?? DEFAULT_LOAD_BATCH);
        await loader.start();
        break;
      }
      case 'graph-end':
        await loader?.finish(record);
        summaries.push({ name: record.name, nodes: record.nodes, relationships: record.relationships, indexes: record.indexes, constraints: record.constraints });
        options.progress?.(`graph "${record.name}": ${record.nodes} nodes, ${record.relationships} relationships loaded`);
        loader = undefined;
        break;
      default:
        if (loader !== undefined) await loader.add(line, record);
        break;
    }
  }
}

/** What the tenant's graphs take, leaving out those the import replaces (they are dropped before the copy). */
async function keptStorageBytes(db: Database, tenant: string, replaced: readonly string[]): Promise<number> {
  const replacedKeys = new Set(replaced.map((g) => tenantGraphKey(tenant, g)));
  const keys = (await new GraphClient(db).listKeys(tenantKeyPrefix(tenant))).filter((key) => !replacedKeys.has(key));
  return graphsStorageBytes(db, keys);
}

export async function importTenant(options: ImportOptions): Promise<ImportSummary> {
  const { db, file, onConflict } = options;
  const tenant = validateTenantId(options.tenant);
  const target = validateTenantId(options.targetTenant);
  options.progress?.(`checking ${file}`);
  const { header } = await checkTransferFile(file);
  if (header.tenant !== tenant) {
    throw new GatewayError('REQUEST_INVALID', `${file} holds the graphs of tenant "${header.tenant}", not "${tenant}"; nothing was imported. Run: tenant import ${header.tenant} --in ${file}${tenant === target ? '' : ` --rename-tenant ${target}`}`);
  }
  const existing = await existingTargets(db, target, header.graphs);
  if (existing.length > 0 && onConflict === 'fail') throw conflict(target, existing);
  const quota = options.storageQuotaBytes ?? 0;
  if (quota > 0) {
    const kept = await keptStorageBytes(db, target, existing);
    if (kept >= quota) throw importOverQuota(target, kept, quota, true);
  }

  const runId = newTransferRunId();
  const scratch = new Map(header.graphs.map((g) => [g, scratchGraphKey(runId, tenantGraphKey(target, g))]));
  const summaries: GraphSummary[] = [];
  try {
    await loadAll(options, scratch, summaries).catch((error: unknown) => {
      if (error instanceof GatewayError) throw error;
      throw new GatewayError('QUERY_FAILED', `Loading ${file} failed: ${error instanceof Error ? error.message : String(error)}; nothing was imported.`);
    });
    // Checked again at the end: a graph created while the file loaded is not overwritten in fail mode.
    const nowExisting = await existingTargets(db, target, header.graphs);
    if (nowExisting.length > 0 && onConflict === 'fail') throw conflict(target, nowExisting);
    if (quota > 0) {
      // Measured on the loaded scratch graphs: what the copies will take, whatever the file's size.
      const after = (await keptStorageBytes(db, target, nowExisting)) + (await graphsStorageBytes(db, [...scratch.values()]));
      if (after > quota) throw importOverQuota(target, after, quota, false);
    }
    for (const graph of header.graphs) {
      const key = tenantGraphKey(target, graph);
      if (nowExisting.includes(graph)) await dropGraph(db, key);
      await copyGraph(db, scratch.get(graph) ?? '', key, `Copying graph "${graph}" into place`);
      options.progress?.(`graph "${graph}": ${nowExisting.includes(graph) ? 'replaced' : 'created'} for tenant "${target}"`);
    }
    // Every gateway instance drops what it cached of these graphs and of the tenant's graph list.
    await createCacheVersions(db).bump(target, header.graphs, true);
    return { tenant: target, fromTenant: tenant, graphs: summaries, replaced: nowExisting };
  } finally {
    for (const key of scratch.values()) await dropGraph(db, key).catch(() => undefined);
  }
}
