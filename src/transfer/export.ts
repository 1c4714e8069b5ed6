// `tenant export`: writes a tenant's graphs as a transfer file, one graph at a
// time, from a GRAPH.COPY snapshot (so nodes and relationships are of one moment
// even while clients write), in batches of node ids, so no graph is ever held
// in memory whole.

import { matchesAnyPattern } from '../tenancy/graph-rules.js';
import { GatewayError } from '../errors.js';
import type { Database, RespValue } from '../falkordb/database.js';
import { INTERNAL_READ_ROWS } from '../falkordb/db-limits.js';
import type { GraphClient } from '../falkordb/graphs.js';
import { tenantGraphKey, tenantGraphsAmong, tenantKeyPrefix } from '../tenancy/keys.js';
import { GATEWAY_VERSION } from '../version.js';
import { asArray, untyped } from '../falkordb/exact-floats.js';
import { EXACT_LIST_DEPTH, decodeValue, floatColumn, listColumn, nestedExpression, nestedInfo, NestedFloatError, type ExactInfo } from './decode.js';
import { stringLiteral } from './encode.js';
import {
  TRANSFER_FORMAT,
  TRANSFER_VERSION,
  type ConstraintRecord,
  type FileValue,
  type IndexRecord,
  type TransferRecord,
} from './format.js';
import { compactQuery, copyGraph, dropGraph, plainCell, schemaNames, type SchemaNames } from './server.js';
import { newTransferRunId, scratchGraphKey } from './scratch-key.js';

export interface GraphSummary {
  name: string;
  nodes: number;
  relationships: number;
  indexes: number;
  constraints: number;
}

export interface ExportOptions {
  db: Database;
  graphs: GraphClient;
  tenant: string;
  /** `--graphs` patterns; none: every graph of the tenant. */
  patterns?: readonly string[] | undefined;
  write(record: TransferRecord): Promise<void>;
  progress?: ((message: string) => void) | undefined;
  /** Node ids per read; small values exercise batching in tests. */
  batchSize?: number;
}

// A read never asks for more rows than FalkorDB's RESULTSET_SIZE lets through
// (it drops the rest silently; see db-limits.ts), so nothing is left out.
const DEFAULT_BATCH = INTERNAL_READ_ROWS;
const NODE_QUERY = `MATCH (n) WHERE id(n) >= $from AND id(n) < $to RETURN n, ${floatColumn('n')}, ${listColumn('n')} ORDER BY id(n)`;
/** One node id range's relationships, a page at a time (a node may have any number). */
const RELATIONSHIP_QUERY = `MATCH (a)-[e]->() WHERE id(a) >= $from AND id(a) < $to AND id(e) > $after RETURN e, ${floatColumn('e')}, ${listColumn('e')}, id(e) ORDER BY id(e) LIMIT $page`;
const NESTED = (entity: string) => `[k IN keys(${entity}) WHERE k = $key | ${nestedExpression(`${entity}[k]`)}][0]`;
const NODE_NESTED_QUERY = `MATCH (n) WHERE id(n) = $id RETURN ${NESTED('n')}`;
const RELATIONSHIP_NESTED_QUERY = `MATCH (a)-[e]->() WHERE id(a) = $from AND id(e) = $id RETURN ${NESTED('e')}`;

/** Asks for one property's floats at every nesting level (see nestedExpression). */
type NestedLookup = (key: string) => Promise<ExactInfo>;

function name(list: readonly string[], id: RespValue | undefined, what: string): string {
  const found = list[Number(id)];
  if (found === undefined) throw new Error(`unknown ${what} id ${String(id)}`);
  return found;
}

/** What the float and list columns say, per property key. */
function exactInfo(floats: RespValue | undefined, lists: RespValue | undefined): Map<string, ExactInfo> {
  const info = new Map<string, ExactInfo>();
  for (const pair of untyped(floats) as unknown[]) if (Array.isArray(pair)) info.set(String(pair[0]), { split: pair[1] });
  for (const pair of untyped(lists) as unknown[]) {
    if (Array.isArray(pair) && Array.isArray(pair[1])) info.set(String(pair[0]), { children: pair[1].map((split: unknown) => ({ split })) });
  }
  return info;
}

/** Compact property triples `[keyId, type, value]` and the exact-float columns, as a file property map. */
async function properties(list: RespValue | undefined, info: Map<string, ExactInfo>, names: SchemaNames, nested: NestedLookup): Promise<Record<string, FileValue>> {
  const out: Record<string, FileValue> = {};
  for (const entry of asArray(list)) {
    const [keyId, type, value] = asArray(entry);
    const key = name(names.keys, keyId, 'property key');
    const cell: RespValue = [type ?? null, value ?? null];
    let decoded: FileValue | undefined;
    try {
      decoded = decodeValue(cell, info.get(key));
    } catch (error) {
      if (!(error instanceof NestedFloatError)) throw error;
      try {
        decoded = decodeValue(cell, await nested(key));
      } catch (again) {
        if (!(again instanceof NestedFloatError)) throw again;
        throw new Error(`property "${key}" holds a float nested more than ${EXACT_LIST_DEPTH} lists deep, which cannot be exported exactly`);
      }
    }
    if (decoded !== undefined) out[key] = decoded;
  }
  return out;
}

async function maxNodeId(db: Database, key: string): Promise<number> {
  const { rows } = await compactQuery(db, key, 'MATCH (n) RETURN max(id(n))', { readOnly: true, step: 'Reading the node count' });
  const value = plainCell(rows[0]?.[0]);
  return typeof value === 'number' ? value : -1;
}

function lower<T extends string>(value: unknown): T {
  return String(value).toLowerCase() as T;
}

async function readIndexes(db: Database, key: string): Promise<IndexRecord[]> {
  const { rows } = await compactQuery(db, key, 'CALL db.indexes() YIELD label, properties, types, options, language, stopwords, entitytype RETURN label, properties, types, options, language, stopwords, entitytype', {
    readOnly: true,
    step: 'Reading the indexes',
  });
  const records: IndexRecord[] = [];
  for (const row of rows) {
    const [label, props, types, options, language, stopwords, entity] = row.map(plainCell) as [string, string[], Record<string, string[]>, Record<string, Record<string, unknown>>, string, string[], string];
    for (const property of props) {
      for (const type of types[property] ?? []) {
        const record: IndexRecord = { kind: 'index', entity: lower(entity), label, property, indexType: lower(type) };
        if (record.indexType === 'fulltext') {
          record.language = language;
          record.stopwords = stopwords;
        }
        if (record.indexType === 'vector') {
          const o = options[property] ?? {};
          record.vector = { dimension: Number(o.dimension), similarityFunction: lower(o.similarityFunction) };
          for (const k of ['M', 'efConstruction', 'efRuntime'] as const) if (typeof o[k] === 'number') record.vector[k] = o[k];
        }
        records.push(record);
      }
    }
  }
  return records;
}

async function readConstraints(db: Database, key: string): Promise<ConstraintRecord[]> {
  const { rows } = await compactQuery(db, key, 'CALL db.constraints() YIELD type, label, properties, entitytype, status RETURN type, label, properties, entitytype, status', {
    readOnly: true,
    step: 'Reading the constraints',
  });
  return rows
    .map((row) => row.map(plainCell) as [string, string, string[], string, string])
    .filter(([, , , , status]) => status !== 'FAILED')
    .map(([type, label, props, entity]) => ({ kind: 'constraint', constraint: lower(type), entity: lower(entity), label, properties: props }));
}

async function exportGraph(options: GraphExportOptions, graph: string, key: string): Promise<GraphSummary> {
  const { db, write } = options;
  const batch = Math.min(options.batchSize ?? DEFAULT_BATCH, INTERNAL_READ_ROWS);
  const names = await schemaNames(db, key, `Reading the schema of graph "${graph}"`);
  const last = await maxNodeId(db, key);
  const summary: GraphSummary = { name: graph, nodes: 0, relationships: 0, indexes: 0, constraints: 0 };
  await write({ kind: 'graph', name: graph });
  /** One read of the snapshot's nodes or relationships; `params` without the `CYPHER` prefix. */
  const read = async (what: string, query: string, params: string) =>
    (await compactQuery(db, key, query, { params: `CYPHER ${params} `, readOnly: true, step: `Exporting the ${what} of graph "${graph}"` })).rows;
  const nested = (what: string, query: string, params: string): NestedLookup => async (property) =>
    nestedInfo(untyped((await read(what, query, `${params} key=${stringLiteral(property)}`))[0]?.[0]));
  for (let from = 0; from <= last; from += batch) {
    for (const [cell, floats, lists] of await read('nodes', NODE_QUERY, `from=${from} to=${from + batch}`)) {
      const [id, labelIds, props] = asArray(asArray(cell)[1]);
      const properties_ = await properties(props, exactInfo(floats, lists), names, nested('nodes', NODE_NESTED_QUERY, `id=${String(id)}`));
      await write({ kind: 'node', id: Number(id), labels: asArray(labelIds).map((l) => name(names.labels, l, 'label')), properties: properties_ });
      summary.nodes += 1;
    }
    options.progress?.(`graph "${graph}": ${summary.nodes} nodes`);
  }
  for (let from = 0; from <= last; from += batch) {
    for (let after = '-1', full = true; full; ) {
      const rows = await read('relationships', RELATIONSHIP_QUERY, `from=${from} to=${from + batch} after=${after} page=${batch}`);
      for (const [cell, floats, lists] of rows) {
        const [id, typeId, start, end, props] = asArray(asArray(cell)[1]);
        const properties_ = await properties(props, exactInfo(floats, lists), names, nested('relationships', RELATIONSHIP_NESTED_QUERY, `from=${String(start)} id=${String(id)}`));
        await write({ kind: 'relationship', type: name(names.types, typeId, 'relationship type'), from: Number(start), to: Number(end), properties: properties_ });
        summary.relationships += 1;
      }
      full = rows.length === batch;
      if (full) after = String(asArray(rows[rows.length - 1]?.[3])[1]);
    }
  }
  options.progress?.(`graph "${graph}": ${summary.relationships} relationships`);
  for (const record of await readIndexes(db, key)) {
    await write(record);
    summary.indexes += 1;
  }
  for (const record of await readConstraints(db, key)) {
    await write(record);
    summary.constraints += 1;
  }
  await write({ kind: 'graph-end', ...summary });
  return summary;
}

/** What writing one graph needs; `tenant export` and `tenant move` both give it. */
export type GraphExportOptions = Pick<ExportOptions, 'db' | 'tenant' | 'write' | 'progress' | 'batchSize'>;

/**
 * Writes one graph of the tenant (its `graph` … `graph-end` records) from a GRAPH.COPY snapshot
 * under the scratch key of run `runId`, dropped afterwards whatever happens.
 */
export async function exportGraphSnapshot(options: GraphExportOptions, graph: string, runId: string): Promise<GraphSummary> {
  const { db } = options;
  const key = tenantGraphKey(options.tenant, graph);
  const snapshot = scratchGraphKey(runId, key);
  options.progress?.(`graph "${graph}": taking a snapshot`);
  await copyGraph(db, key, snapshot, `Taking a snapshot of graph "${graph}"`);
  try {
    return await exportGraph(options, graph, snapshot);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('QUERY_FAILED', `Exporting graph "${graph}" failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await dropGraph(db, snapshot);
  }
}

/** The tenant's graph names that `patterns` select, sorted. */
export async function selectGraphs(graphs: GraphClient, tenant: string, patterns: readonly string[] | undefined): Promise<string[]> {
  const all = tenantGraphsAmong(tenant, await graphs.listKeys(tenantKeyPrefix(tenant)));
  return patterns === undefined || patterns.length === 0 ? all : all.filter((g) => matchesAnyPattern(patterns, g));
}

export async function exportTenant(options: ExportOptions): Promise<{ tenant: string; graphs: GraphSummary[] }> {
  const { db, tenant } = options;
  const names = await selectGraphs(options.graphs, tenant, options.patterns);
  await options.write({
    kind: 'header',
    format: TRANSFER_FORMAT,
    version: TRANSFER_VERSION,
    tenant,
    graphs: names,
    createdAt: new Date().toISOString(),
    gatewayVersion: GATEWAY_VERSION,
    falkordbVersion: db.moduleVersion,
  });
  const runId = newTransferRunId();
  const summaries: GraphSummary[] = [];
  for (const graph of names) summaries.push(await exportGraphSnapshot(options, graph, runId));
  await options.write({ kind: 'end', graphs: summaries.length });
  return { tenant, graphs: summaries };
}
