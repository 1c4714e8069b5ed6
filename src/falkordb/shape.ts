// Turns a `--compact` GRAPH.QUERY reply (integers as decimal strings) into plain
// JSON: nodes, relationships, paths, maps, points, temporal values as ISO
// strings, and 64-bit integers without loss (as strings beyond 2^53).

import type { RespValue } from './database.js';
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

function asArray(value: RespValue | undefined): RespValue[] {
  return Array.isArray(value) ? value : [];
}

function integer(value: RespValue | undefined): number | string {
  const text = String(value);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function double(value: RespValue | undefined): number | string {
  const n = Number(value);
  return Number.isFinite(n) ? n : String(value);
}

function name(list: readonly string[], id: RespValue | undefined): string {
  const found = list[Number(id)];
  if (found === undefined) throw new UnknownSchemaIdError(`unknown id ${String(id)}`);
  return found;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function isoDuration(totalSeconds: number): string {
  const sign = totalSeconds < 0 ? '-' : '';
  let rest = Math.abs(totalSeconds);
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  let out = `${sign}P${days ? `${days}D` : ''}`;
  if (hours || minutes || seconds || !days) out += `T${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds || (!hours && !minutes) ? `${seconds}S` : ''}`;
  return out;
}

export function shapeValue(cell: RespValue | undefined, names: GraphSchemaNames): JsonValue {
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
      return double(value);
    case T.Array:
      return asArray(value).map((v) => shapeValue(v, names));
    case T.Edge:
      return shapeEdge(asArray(value), names);
    case T.Node:
      return shapeNode(asArray(value), names);
    case T.Path: {
      const [nodes, edges] = asArray(value);
      return {
        nodes: asArray(asArray(nodes)[1]).map((n) => shapeValue(n, names)),
        relationships: asArray(asArray(edges)[1]).map((e) => shapeValue(e, names)),
      };
    }
    case T.Map: {
      const flat = asArray(value);
      const out: Record<string, JsonValue> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = shapeValue(flat[i + 1], names);
      return out;
    }
    case T.Point: {
      const [lat, lon] = asArray(value);
      return { latitude: double(lat), longitude: double(lon) };
    }
    case T.VectorF32:
      return asArray(value).map((v) => double(v));
    case T.DateTime:
      return new Date(Number(value) * 1000).toISOString();
    case T.Date:
      return new Date(Number(value) * 1000).toISOString().slice(0, 10);
    case T.Time: {
      const s = ((Number(value) % 86400) + 86400) % 86400;
      return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
    }
    case T.Duration:
      return isoDuration(Number(value));
    default:
      return String(value);
  }
}

function shapeProperties(list: RespValue | undefined, names: GraphSchemaNames): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const entry of asArray(list)) {
    const [keyId, type, value] = asArray(entry);
    out[name(names.propertyKeys, keyId)] = shapeValue([type ?? null, value ?? null], names);
  }
  return out;
}

function shapeNode([id, labelIds, props]: RespValue[], names: GraphSchemaNames): JsonValue {
  return {
    id: integer(id),
    labels: asArray(labelIds).map((l) => name(names.labels, l)),
    properties: shapeProperties(props, names),
  };
}

function shapeEdge([id, typeId, startId, endId, props]: RespValue[], names: GraphSchemaNames): JsonValue {
  return {
    id: integer(id),
    type: name(names.relationshipTypes, typeId),
    startId: integer(startId),
    endId: integer(endId),
    properties: shapeProperties(props, names),
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

export function shapeReply(reply: RespValue, names: GraphSchemaNames, maxRows: number): ShapedReply {
  const parts = asArray(reply);
  if (parts.length < 3) {
    return { columns: [], rows: [], rowCount: 0, truncated: false, ...parseStats(asArray(parts[0])) };
  }
  const columns = asArray(parts[0]).map((h) => String(asArray(h)[1] ?? h));
  const data = asArray(parts[1]);
  const kept = data.slice(0, maxRows);
  const rows = kept.map((row) => {
    const cells = asArray(row);
    const out: Record<string, JsonValue> = {};
    columns.forEach((column, i) => {
      out[column] = shapeValue(cells[i], names);
    });
    return out;
  });
  return { columns, rows, rowCount: rows.length, truncated: data.length > maxRows, ...parseStats(asArray(parts[2])) };
}
