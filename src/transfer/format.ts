// The tenant export file: JSON Lines, one record per line, a header naming the
// format and its version first and an end record last (a file without it is
// truncated). Property values keep their FalkorDB type: integers are plain JSON
// numbers (or {"$int": "…"} beyond 2^53), every other non-string, non-boolean
// type is an object with one `$` key, so a float 1.0 never comes back as 1.

import { z } from 'zod';
import type { NonFiniteFloat } from '../falkordb/compact-values.js';

export const TRANSFER_FORMAT = 'falkordb-mcp-gateway/tenant-export';
export const TRANSFER_VERSION = 1;

/** A property value as the file holds it. */
export type FileValue =
  | string
  | boolean
  | number
  | FileValue[]
  | { $int: string }
  | { $float: number | NonFiniteFloat }
  | { $point: { latitude: number; longitude: number } }
  | { $vecf32: number[] }
  | { $datetime: string }
  | { $date: string }
  | { $time: string }
  | { $duration: string };

export type { NonFiniteFloat };

export const DATETIME_PATTERN = /^([+-]?\d{4,6})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
export const DATE_PATTERN = /^([+-]?\d{4,6})-(\d{2})-(\d{2})$/;
export const TIME_PATTERN = /^(\d{2}):(\d{2}):(\d{2})$/;
export const DURATION_PATTERN = /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+)S)?)?$/;

const MAX_NESTING = 32;
const TAGS: Record<string, (v: unknown) => string | undefined> = {
  $int: (v) => (typeof v === 'string' && /^-?\d{1,19}$/.test(v) ? undefined : 'must be a decimal integer in a string'),
  $float: (v) => (isFinite(v) || v === 'NaN' || v === 'Infinity' || v === '-Infinity' || v === '-0' ? undefined : 'must be a finite number, "NaN", "Infinity", "-Infinity" or "-0"'),
  $point: (v) => {
    const p = v as { latitude?: unknown; longitude?: unknown } | null;
    return typeof p === 'object' && p !== null && Object.keys(p).length === 2 && isFinite(p.latitude) && isFinite(p.longitude) ? undefined : 'must be {"latitude": number, "longitude": number}';
  },
  $vecf32: (v) => (Array.isArray(v) && v.every(isFinite) ? undefined : 'must be a list of finite numbers'),
  $datetime: (v) => (typeof v === 'string' && DATETIME_PATTERN.test(v) ? undefined : 'must be YYYY-MM-DDTHH:MM:SS'),
  $date: (v) => (typeof v === 'string' && DATE_PATTERN.test(v) ? undefined : 'must be YYYY-MM-DD'),
  $time: (v) => (typeof v === 'string' && TIME_PATTERN.test(v) ? undefined : 'must be HH:MM:SS'),
  $duration: (v) => (typeof v === 'string' && DURATION_PATTERN.test(v) ? undefined : 'must be an ISO 8601 duration such as P1Y2M3DT4H5M6S'),
};

function isFinite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Why `value` is not a file value, with the path inside it; undefined when it
 * is one. Hand-written rather than a zod union: it runs once per property of
 * every record of a file of millions of lines.
 */
export function valueProblem(value: unknown, depth = 0): { path: PropertyKey[]; message: string } | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? undefined : { path: [], message: 'a plain number must be an integer of at most 2^53 - 1 (write floats as {"$float": x}, larger integers as {"$int": "…"})' };
  }
  if (Array.isArray(value)) {
    if (depth >= MAX_NESTING) return { path: [], message: `lists may be nested at most ${MAX_NESTING} deep` };
    for (let i = 0; i < value.length; i += 1) {
      const problem = valueProblem(value[i], depth + 1);
      if (problem !== undefined) return { path: [i, ...problem.path], message: problem.message };
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    const check = keys.length === 1 ? TAGS[keys[0] as string] : undefined;
    if (check === undefined) return { path: [], message: `must be a string, boolean, integer, list, or an object with one of ${Object.keys(TAGS).join(', ')}` };
    const message = check((value as Record<string, unknown>)[keys[0] as string]);
    return message === undefined ? undefined : { path: [keys[0] as string], message };
  }
  return { path: [], message: 'must not be null (a property that is not set is left out)' };
}

const fileValue = z.unknown().superRefine((value, ctx) => {
  const problem = valueProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
}) as unknown as z.ZodType<FileValue>;

/**
 * A label, relationship type or property key: FalkorDB's Cypher cannot quote a
 * name holding a backtick at all, so such a name can neither exist nor be loaded.
 */
const name = z
  .string()
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters')
  .refine((s) => !s.includes('`') && !s.includes('\0'), 'must not contain a backtick or a NUL character');

const properties = z.record(name, fileValue);
const graphName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be a graph name (1 to 128 characters of letters, digits, _, . and -, starting with a letter or digit)');
const count = z.number().int().nonnegative();
const entity = z.enum(['node', 'relationship']);

export const headerRecord = z
  .object({
    kind: z.literal('header'),
    format: z.literal(TRANSFER_FORMAT, { error: `must be "${TRANSFER_FORMAT}": this is not a tenant export file` }),
    version: z.number().int(),
    tenant: z.string().min(1),
    graphs: z.array(graphName),
    createdAt: z.string(),
    gatewayVersion: z.string(),
    falkordbVersion: z.string(),
  })
  .strict();

export const graphRecord = z.object({ kind: z.literal('graph'), name: graphName }).strict();

export const nodeRecord = z
  .object({ kind: z.literal('node'), id: count, labels: z.array(name), properties })
  .strict();

export const relationshipRecord = z
  .object({ kind: z.literal('relationship'), type: name, from: count, to: count, properties })
  .strict();

export const vectorOptions = z
  .object({
    dimension: z.number().int().positive(),
    similarityFunction: z.enum(['euclidean', 'cosine']),
    M: z.number().int().positive().optional(),
    efConstruction: z.number().int().positive().optional(),
    efRuntime: z.number().int().positive().optional(),
  })
  .strict();

export const indexRecord = z
  .object({
    kind: z.literal('index'),
    entity,
    label: name,
    property: name,
    indexType: z.enum(['range', 'fulltext', 'vector']),
    /** Full-text only: the label's language and stop words (empty: FalkorDB's defaults). */
    language: z.string().regex(/^[a-z]{1,32}$/, 'must be a language name such as english').optional(),
    stopwords: z.array(z.string().max(256)).optional(),
    vector: vectorOptions.optional(),
  })
  .strict()
  .refine((r) => (r.indexType === 'vector') === (r.vector !== undefined), 'a vector index, and only a vector index, has "vector" options');

export const constraintRecord = z
  .object({ kind: z.literal('constraint'), constraint: z.enum(['unique', 'mandatory']), entity, label: name, properties: z.array(name).min(1) })
  .strict();

export const graphEndRecord = z
  .object({ kind: z.literal('graph-end'), name: graphName, nodes: count, relationships: count, indexes: count, constraints: count })
  .strict();

export const endRecord = z.object({ kind: z.literal('end'), graphs: count }).strict();

export type HeaderRecord = z.infer<typeof headerRecord>;
export type GraphRecord = z.infer<typeof graphRecord>;
export type NodeRecord = z.infer<typeof nodeRecord>;
export type RelationshipRecord = z.infer<typeof relationshipRecord>;
export type IndexRecord = z.infer<typeof indexRecord>;
export type ConstraintRecord = z.infer<typeof constraintRecord>;
export type GraphEndRecord = z.infer<typeof graphEndRecord>;
export type EndRecord = z.infer<typeof endRecord>;
export type TransferRecord = HeaderRecord | GraphRecord | NodeRecord | RelationshipRecord | IndexRecord | ConstraintRecord | GraphEndRecord | EndRecord;

export const RECORD_SCHEMAS = {
  header: headerRecord,
  graph: graphRecord,
  node: nodeRecord,
  relationship: relationshipRecord,
  index: indexRecord,
  constraint: constraintRecord,
  'graph-end': graphEndRecord,
  end: endRecord,
} as const;

export type RecordKind = keyof typeof RECORD_SCHEMAS;
