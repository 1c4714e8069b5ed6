// Turns a `--compact` GRAPH.QUERY reply (integers as decimal strings) into plain
// JSON: nodes, relationships, paths, maps, points, temporal values as ISO 8601
// strings (local ones without a zone), 64-bit integers without loss (as strings
// beyond 2^53), doubles exact where the exact-float columns (exact-query.ts)
// give their split, and NaN, ±Infinity and -0 in the export's `{"$float": …}` form.

import { dateText, durationText, float32, localDateTimeText, localTimeText, nonFiniteFloat } from './compact-values.js';
import type { RespValue } from './database.js';
import { asArray, exactDouble, untyped } from './exact-floats.js';
import { ValueType } from './value-types.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Names behind the numeric ids of a compact reply. */
export interface GraphSchemaNames {
  labels: readonly string[];
  relationshipTypes: readonly string[];
  propertyKeys: readonly string[];
}

export interface ShapedReply {
  columns: string[];
  rows: Record<string, JsonValue>[];
  rowCount: number;
  truncated: boolean;
  stats: Record<string, number | boolean>;
  executionTimeMs: number | null;
}

const T = ValueType;

/** Thrown when the reply mentions an id the names do not cover yet: refetch and retry. */
export class UnknownSchemaIdError extends Error {}

function integer(value: RespValue | undefined): number | string {
  const text = String(value);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/**
 * Sets `out[key]` as an own property: a plain assignment of `__proto__` would
 * set the object's prototype instead, and the key (a map key, property or
 * column the caller chose) would be missing from the result.
 */
function setEntry(out: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * What the query's exact-float column (exact-query.ts) says of one value:
 * `[split]` for a float, `[[[index or key, info]…]]` for a value holding floats.
 */
type FloatInfo = unknown;

/** A double as a JSON number (exact when `info` holds its split), or `{"$float": name}` for the four a number cannot carry, as the export writes them. */
function double(value: RespValue | undefined, info?: FloatInfo): JsonValue {
  const printed = String(value);
  const special = nonFiniteFloat(printed);
  if (special !== undefined) return { $float: special };
  const split = Array.isArray(info) ? info[0] : undefined;
  return exactDouble(printed, split) ?? Number(printed);
}

/** The infos of a value's children, by index or key. */
function childInfos(info: FloatInfo): Map<string, FloatInfo> {
  const out = new Map<string, FloatInfo>();
  const pairs = Array.isArray(info) ? info[0] : undefined;
  if (Array.isArray(pairs)) for (const pair of pairs) if (Array.isArray(pair)) out.set(String(pair[0]), pair[1]);
  return out;
}

function name(list: readonly string[], id: RespValue | undefined): string {
  const found = list[Number(id)];
  if (found === undefined) throw new UnknownSchemaIdError(`unknown id ${String(id)}`);
  return found;
}

export function shapeValue(cell: RespValue | undefined, names: GraphSchemaNames, info?: FloatInfo): JsonValue {
  const [type, value] = asArray(cell);
  switch (Number(type)) {
    case T.Null:
      return null;
    case T.String:
      return String(value);
    case T.Integer:
      return integer(value);
    case T.Boolean:
      return value === 'true';
    case T.Double:
      return double(value, info);
    case T.Array: {
      const infos = childInfos(info);
      return asArray(value).map((v, i) => shapeValue(v, names, infos.get(String(i))));
    }
    case T.Edge:
      return shapeEdge(asArray(value), names, info);
    case T.Node:
      return shapeNode(asArray(value), names, info);
    case T.Path: {
      // The exact-float column lists a path's nodes, then its relationships.
      const infos = childInfos(info);
      const nodes = asArray(asArray(asArray(value)[0])[1]);
      const edges = asArray(asArray(asArray(value)[1])[1]);
      return {
        nodes: nodes.map((n, i) => shapeValue(n, names, infos.get(String(i)))),
        relationships: edges.map((e, i) => shapeValue(e, names, infos.get(String(nodes.length + i)))),
      };
    }
    case T.Map: {
      const infos = childInfos(info);
      const flat = asArray(value);
      const out: Record<string, JsonValue> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) setEntry(out, String(flat[i]), shapeValue(flat[i + 1], names, infos.get(String(flat[i]))));
      return out;
    }
    case T.Point: {
      const [lat, lon] = asArray(value);
      return { latitude: float32(lat), longitude: float32(lon) };
    }
    case T.VectorF32:
      return asArray(value).map(float32);
    case T.DateTime:
      return localDateTimeText(Number(value));
    case T.Date:
      return dateText(Number(value));
    case T.Time:
      return localTimeText(Number(value));
    case T.Duration:
      return durationText(Number(value));
    default:
      return String(value);
  }
}

function shapeProperties(list: RespValue | undefined, names: GraphSchemaNames, info: FloatInfo): Record<string, JsonValue> {
  const infos = childInfos(info);
  const out: Record<string, JsonValue> = {};
  for (const entry of asArray(list)) {
    const [keyId, type, value] = asArray(entry);
    const key = name(names.propertyKeys, keyId);
    setEntry(out, key, shapeValue([type ?? null, value ?? null], names, infos.get(key)));
  }
  return out;
}

function shapeNode([id, labelIds, props]: RespValue[], names: GraphSchemaNames, info: FloatInfo): JsonValue {
  return {
    id: integer(id),
    labels: asArray(labelIds).map((l) => name(names.labels, l)),
    properties: shapeProperties(props, names, info),
  };
}

function shapeEdge([id, typeId, startId, endId, props]: RespValue[], names: GraphSchemaNames, info: FloatInfo): JsonValue {
  return {
    id: integer(id),
    type: name(names.relationshipTypes, typeId),
    startId: integer(startId),
    endId: integer(endId),
    properties: shapeProperties(props, names, info),
  };
}

function camel(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^a-z0-9]+(.)/g, (_, c: string) => c.toUpperCase())
    .replace(/[^A-Za-z0-9]/g, '');
}

/** `["Nodes created: 2", "Query internal execution time: 0.2 milliseconds"]` → stats and time. */
export function parseStats(lines: readonly RespValue[]): { stats: Record<string, number | boolean>; executionTimeMs: number | null } {
  const stats: Record<string, number | boolean> = {};
  let executionTimeMs: number | null = null;
  for (const line of lines) {
    const match = /^(.+?):\s*([-\d.]+)/.exec(String(line));
    if (!match) continue;
    const [, label = '', value = ''] = match;
    const n = Number(value);
    if (/execution time/i.test(label)) executionTimeMs = n;
    else if (/^cached execution$/i.test(label)) stats.cachedExecution = n === 1;
    else stats[camel(label)] = n;
  }
  return { stats, executionTimeMs };
}

/** True when shaping this reply needs label/type/property-key names. */
export function replyHasEntities(reply: RespValue): boolean {
  const parts = asArray(reply);
  if (parts.length < 3) return false;
  const visit = (cell: RespValue | undefined): boolean => {
    const [type, value] = asArray(cell);
    const t = Number(type);
    if (t === T.Node || t === T.Edge || t === T.Path) return true;
    if (t === T.Array) return asArray(value).some(visit);
    if (t === T.Map) return asArray(value).some((v, i) => i % 2 === 1 && visit(v));
    return false;
  };
  return asArray(parts[1]).some((row) => asArray(row).some(visit));
}

/**
 * True when the reply holds a double its 15 printed digits may not carry
 * exactly (any but zero, NaN and the infinities): then the exact-float column
 * is worth asking for. Node and relationship properties count too.
 */
export function replyHasInexactDoubles(reply: RespValue): boolean {
  const parts = asArray(reply);
  if (parts.length < 3) return false;
  const inexact = (value: RespValue | undefined) => nonFiniteFloat(String(value)) === undefined && Number(value) !== 0;
  const properties = (props: RespValue | undefined) => asArray(props).some((entry) => visit(asArray(entry).slice(1)));
  const visit = (cell: RespValue | undefined): boolean => {
    const [type, value] = asArray(cell);
    switch (Number(type)) {
      case T.Double:
        return inexact(value);
      case T.Array:
        return asArray(value).some(visit);
      case T.Map:
        return asArray(value).some((v, i) => i % 2 === 1 && visit(v));
      case T.Node:
        return properties(asArray(value)[2]);
      case T.Edge:
        return properties(asArray(value)[4]);
      case T.Path:
        return asArray(value).some(visit);
      default:
        return false;
    }
  };
  return asArray(parts[1]).some((row) => asArray(row).some(visit));
}

/**
 * The reply as rows. The reply's last `addedColumns` columns are the
 * exact-float columns of exact-query.ts: read for the other columns' floats,
 * then left out.
 */
export function shapeReply(reply: RespValue, names: GraphSchemaNames, maxRows: number, addedColumns = 0): ShapedReply {
  const parts = asArray(reply);
  if (parts.length < 3) {
    return { columns: [], rows: [], rowCount: 0, truncated: false, ...parseStats(asArray(parts[0])) };
  }
  const header = asArray(parts[0]).map((h) => String(asArray(h)[1] ?? h));
  const columns = header.slice(0, header.length - addedColumns);
  const data = asArray(parts[1]);
  const kept = data.slice(0, maxRows);
  const rows = kept.map((row) => {
    const cells = asArray(row);
    const infos = cells.slice(columns.length).flatMap((cell) => asArray(untyped(cell) as RespValue));
    const out: Record<string, JsonValue> = {};
    columns.forEach((column, i) => {
      setEntry(out, column, shapeValue(cells[i], names, infos[i]));
    });
    return out;
  });
  return { columns, rows, rowCount: rows.length, truncated: data.length > maxRows, ...parseStats(asArray(parts[2])) };
}
