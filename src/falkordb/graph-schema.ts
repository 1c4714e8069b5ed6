// Reads one graph's schema in a bounded number of cheap queries: names, exact
// counts (db.meta.stats, kept by FalkorDB's label and relation matrices), indexes
// and constraints; property keys per label and relationship endpoints from a sample.

import { isGatewayError } from '../errors.js';
import type { JsonValue, ShapedReply } from './shape.js';

/** Nodes per label and relationships per type whose property keys (and endpoints) the schema samples. */
export const SCHEMA_SAMPLE_SIZE = 1000;
/** Sample queries running at once for one schema read: enough to be quick, few enough not to crowd the tenant's other queries. */
const SAMPLE_PARALLELISM = 4;
/** Below this much time left, the samples not yet taken are skipped and the schema says it is incomplete. */
const MIN_SAMPLE_MS = 20;

export interface LabelSchema {
  name: string;
  /** Exact. */
  count: number;
  /** The keys found on the first SCHEMA_SAMPLE_SIZE nodes of the label. */
  properties: string[];
}

export interface RelationshipTypeSchema {
  name: string;
  /** Exact. */
  count: number;
  /** The keys found on the first SCHEMA_SAMPLE_SIZE relationships of the type. */
  properties: string[];
  /** The (start label, end label) pairs among those relationships; null for a node without labels. */
  endpoints: Array<{ from: string | null; to: string | null }>;
}

export interface ConstraintSchema {
  kind: 'unique' | 'mandatory';
  entity: 'node' | 'relationship';
  label: string;
  properties: string[];
  /** OPERATIONAL, UNDER CONSTRUCTION (being checked against the data) or FAILED (the data breaks it). */
  status: string;
}

export interface GraphSchema {
  labels: LabelSchema[];
  relationshipTypes: RelationshipTypeSchema[];
  propertyKeys: string[];
  /** `label.property kind`, e.g. `Movie.title range`; a relationship type's index says `(relationship)`. */
  indexes: string[];
  constraints: ConstraintSchema[];
  sampling: { nodesPerLabel: number; relationshipsPerType: number; complete: boolean };
  /** db.indexes() as FalkorDB reports it: fields, options, sizes, … */
  indexDetails: Array<Record<string, JsonValue>>;
}

/** Runs one read-only query on the graph within `timeoutMs`. */
export type SchemaQuery = (query: string, timeoutMs: number) => Promise<ShapedReply>;

const text = (value: JsonValue | undefined): string => (typeof value === 'string' ? value : String(value ?? ''));
const texts = (value: JsonValue | undefined): string[] => (Array.isArray(value) ? value.map(text) : []);
const record = (value: JsonValue | undefined): Record<string, JsonValue> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {});

/** A backtick-quoted name; undefined for one Cypher cannot quote (it holds a backtick). */
export function quotedName(name: string): string | undefined {
  return name.includes('`') ? undefined : `\`${name}\``;
}

/** `Movie.title range`, `KNOWS.since range (relationship)`, `Doc.body fulltext (UNDER CONSTRUCTION)`. */
export function indexSummaries(rows: ReadonlyArray<Record<string, JsonValue>>): string[] {
  return rows.flatMap((row) => {
    const notes = [...(text(row['entitytype']) === 'RELATIONSHIP' ? ['relationship'] : []), ...(text(row['status']) === 'OPERATIONAL' || row['status'] === undefined ? [] : [text(row['status'])])];
    const suffix = notes.length === 0 ? '' : ` (${notes.join(', ')})`;
    return Object.entries(record(row['types'])).flatMap(([property, kinds]) => texts(kinds).map((kind) => `${text(row['label'])}.${property} ${kind.toLowerCase()}${suffix}`));
  });
}

export function constraintSummaries(rows: ReadonlyArray<Record<string, JsonValue>>): ConstraintSchema[] {
  return rows.map((row) => ({
    kind: text(row['type']).toLowerCase() === 'unique' ? 'unique' : 'mandatory',
    entity: text(row['entitytype']) === 'RELATIONSHIP' ? 'relationship' : 'node',
    label: text(row['label']),
    properties: texts(row['properties']),
    status: text(row['status']),
  }));
}

/** Runs `tasks` at most `limit` at a time. */
async function inTurns(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

/** The numbers of a db.meta.stats() map column (`{Movie: 3, …}`). */
function countsOf(value: JsonValue | undefined): Map<string, number> {
  return new Map(Object.entries(record(value)).map(([name, n]) => [name, Number(n)]));
}

export async function readGraphSchema(run: SchemaQuery, timeoutMs: number): Promise<GraphSchema> {
  const deadline = performance.now() + timeoutMs;
  const left = () => Math.floor(deadline - performance.now());
  const column = (r: ShapedReply) => r.rows.map((row) => text(Object.values(row)[0]));
  const [labels, types, keys, indexes, constraints, stats] = await Promise.all([
    run('CALL db.labels()', timeoutMs).then(column),
    run('CALL db.relationshipTypes()', timeoutMs).then(column),
    run('CALL db.propertyKeys()', timeoutMs).then(column),
    run('CALL db.indexes()', timeoutMs),
    run('CALL db.constraints()', timeoutMs),
    // A FalkorDB without db.meta.stats gets its counts one label or type at a time (O(1) each too).
    run('CALL db.meta.stats() YIELD labels, relTypes RETURN labels, relTypes', timeoutMs).catch((error: unknown) => {
      if (isGatewayError(error) && error.code === 'QUERY_FAILED') return undefined;
      throw error;
    }),
  ]);
  const labelCounts = stats === undefined ? undefined : countsOf(stats.rows[0]?.['labels']);
  const typeCounts = stats === undefined ? undefined : countsOf(stats.rows[0]?.['relTypes']);
  let complete = true;

  /** One sample query; a timed-out or skipped one leaves its entry without properties and marks the schema incomplete. */
  const sample = async (name: string, query: (quoted: string) => string): Promise<ShapedReply | undefined> => {
    const quoted = quotedName(name);
    const time = left();
    if (quoted === undefined || time < MIN_SAMPLE_MS) {
      complete = false;
      return undefined;
    }
    try {
      return await run(query(quoted), time);
    } catch (error) {
      if (!isGatewayError(error) || error.code !== 'QUERY_TIMEOUT') throw error;
      complete = false;
      return undefined;
    }
  };

  const labelSchemas: LabelSchema[] = labels.map((name) => ({ name, count: labelCounts?.get(name) ?? 0, properties: [] }));
  const typeSchemas: RelationshipTypeSchema[] = types.map((name) => ({ name, count: typeCounts?.get(name) ?? 0, properties: [], endpoints: [] }));
  const counted = (reply: ShapedReply | undefined): number => Number(Object.values(reply?.rows[0] ?? {})[0] ?? 0);
  const tasks = [
    ...(labelCounts !== undefined ? [] : labelSchemas.map((label) => async () => {
      label.count = counted(await sample(label.name, (l) => `MATCH (n:${l}) RETURN count(n)`));
    })),
    ...(typeCounts !== undefined ? [] : typeSchemas.map((type) => async () => {
      type.count = counted(await sample(type.name, (t) => `MATCH ()-[r:${t}]->() RETURN count(r)`));
    })),
    ...labelSchemas.map((label) => async () => {
      const reply = await sample(label.name, (l) => `MATCH (n:${l}) WITH n LIMIT ${SCHEMA_SAMPLE_SIZE} UNWIND keys(n) AS k RETURN DISTINCT k ORDER BY k`);
      if (reply !== undefined) label.properties = column(reply);
    }),
    ...typeSchemas.map((type) => async () => {
      const reply = await sample(
        type.name,
        (t) => `MATCH (a)-[r:${t}]->(b) WITH a, r, b LIMIT ${SCHEMA_SAMPLE_SIZE} RETURN labels(a) AS from, labels(b) AS to, collect(DISTINCT keys(r)) AS keys`,
      );
      if (reply === undefined) return;
      const properties = new Set<string>();
      const pairs = new Map<string, { from: string | null; to: string | null }>();
      for (const row of reply.rows) {
        for (const list of Array.isArray(row['keys']) ? row['keys'] : []) for (const key of texts(list)) properties.add(key);
        const ends = (value: JsonValue | undefined) => (texts(value).length === 0 ? [null] : texts(value));
        for (const from of ends(row['from'])) for (const to of ends(row['to'])) pairs.set(JSON.stringify([from, to]), { from, to });
      }
      type.properties = [...properties].sort();
      type.endpoints = [...pairs.values()].sort((x, y) => `${x.from}\u0000${x.to}`.localeCompare(`${y.from}\u0000${y.to}`));
    }),
  ];
  await inTurns(tasks, SAMPLE_PARALLELISM);
  return {
    labels: labelSchemas,
    relationshipTypes: typeSchemas,
    propertyKeys: keys,
    indexes: indexSummaries(indexes.rows),
    constraints: constraintSummaries(constraints.rows),
    sampling: { nodesPerLabel: SCHEMA_SAMPLE_SIZE, relationshipsPerType: SCHEMA_SAMPLE_SIZE, complete },
    indexDetails: indexes.rows,
  };
}
