// The few raw FalkorDB calls export and import make: compact queries with
// integers kept as text, graph copy/delete, and errors that say which graph
// and which step failed.

import { GatewayError, isGatewayError } from '../errors.js';
import type { Database, RespValue } from '../falkordb/database.js';
import { ValueType } from '../falkordb/value-types.js';
import { asArray } from '../falkordb/exact-floats.js';
import { replyGuardError } from '../falkordb/reply-guard.js';

const T = ValueType;

export interface CompactReply {
  rows: RespValue[][];
}

export function failure(step: string, error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  const guarded = replyGuardError(error);
  if (guarded !== undefined) return new GatewayError(guarded.code, `${step} failed: ${guarded.message}`, guarded.details);
  const message = (error instanceof Error ? error.message : String(error)).replace(/^(ERR|errMsg:)\s*/i, '');
  return new GatewayError('QUERY_FAILED', `${step} failed: ${message}`, { origin: 'database' });
}

/** One GRAPH.QUERY (or RO_QUERY) on `key`, `--compact`; `params` is a ready `CYPHER …` prefix or empty. */
export async function compactQuery(db: Database, key: string, query: string, options: { params?: string; readOnly?: boolean; step: string }): Promise<CompactReply> {
  let reply: RespValue;
  try {
    reply = await db.sendCommand([options.readOnly ? 'GRAPH.RO_QUERY' : 'GRAPH.QUERY', key, `${options.params ?? ''}${query}`, '--compact'], { integersAsStrings: true });
  } catch (error) {
    throw failure(options.step, error);
  }
  const parts = asArray(reply);
  return { rows: parts.length < 3 ? [] : asArray(parts[1]).map(asArray) };
}

/** A compact cell as plain JSON-ish data (maps become objects, numbers numbers). */
export function plainCell(cell: RespValue | undefined): unknown {
  const [type, value] = asArray(cell);
  switch (Number(type)) {
    case T.Null:
      return null;
    case T.Integer:
    case T.Double:
      return Number(value);
    case T.Boolean:
      return String(value) === 'true';
    case T.Array:
      return asArray(value).map(plainCell);
    case T.Map: {
      const flat = asArray(value);
      const out: Record<string, unknown> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = plainCell(flat[i + 1]);
      return out;
    }
    default:
      return String(value);
  }
}

/** Names behind the numeric ids of compact replies. */
export interface SchemaNames {
  labels: string[];
  types: string[];
  keys: string[];
}

export async function schemaNames(db: Database, key: string, step: string): Promise<SchemaNames> {
  const column = async (procedure: string) => (await compactQuery(db, key, `CALL ${procedure}`, { readOnly: true, step })).rows.map((row) => String(plainCell(row[0])));
  return { labels: await column('db.labels()'), types: await column('db.relationshipTypes()'), keys: await column('db.propertyKeys()') };
}

export async function graphExists(db: Database, key: string): Promise<boolean> {
  return Number(await db.sendCommand(['EXISTS', key])) > 0;
}

export async function copyGraph(db: Database, from: string, to: string, step: string): Promise<void> {
  try {
    await db.sendCommand(['GRAPH.COPY', from, to]);
  } catch (error) {
    throw failure(step, error);
  }
}

/** Deletes a graph key; quiet when it is already gone. */
export async function dropGraph(db: Database, key: string): Promise<void> {
  try {
    await db.sendCommand(['GRAPH.DELETE', key]);
  } catch (error) {
    if (/empty key|invalid graph operation on empty key/i.test(error instanceof Error ? error.message : String(error))) return;
    throw failure('Deleting a graph', error);
  }
}
