// The JSON Schemas of the tools, as every MCP host can read them. zod writes a
// nullable or mixed type as a type array (`"type": ["string", "null"]`) and
// "any value" as an empty schema (`"additionalProperties": {}`); both are valid
// JSON Schema, but hosts that map tool schemas onto their own function-calling
// formats refuse or misread them. So the schemas say the same in the forms all
// of them take: one type per schema (alternatives in `anyOf`), and `true` for
// "anything".

import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** The JSON Schema of `schema` (as its input or its output), in the portable forms above. */
export function toolJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return portable(z.toJSONSchema(schema, { target: 'draft-7', io }) as JsonSchema);
}

/** `schema` with every type array split into `anyOf` and every empty sub-schema written as `true`. */
export function portable(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] = SUBSCHEMA_MAPS.has(key) ? mapValues(value) : SUBSCHEMAS.has(key) ? subschema(value) : SUBSCHEMA_LISTS.has(key) && Array.isArray(value) ? value.map(subschema) : value;
  }
  const type = out['type'];
  if (!Array.isArray(type)) return out;
  const { type: _types, ...rest } = out;
  const alternatives = type.map((t: unknown) => ({ type: t }));
  // Keywords that apply to one of the types (a string's pattern, an array's items) stay beside `anyOf`,
  // where JSON Schema applies each to values of its own type only.
  if (type.length === 1) return { ...rest, type: type[0] };
  // An `anyOf` already there must hold as well as the type: both go under `allOf`.
  if (rest['anyOf'] === undefined) return { ...rest, anyOf: alternatives };
  return { ...rest, allOf: [...((rest['allOf'] as unknown[] | undefined) ?? []), { anyOf: alternatives }] };
}

// Keywords whose value is a schema, a list of schemas, or a map of names to schemas.
const SUBSCHEMAS = new Set(['additionalProperties', 'items', 'propertyNames', 'not', 'contains', 'additionalItems', 'if', 'then', 'else']);
const SUBSCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf']);
const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs']);

function subschema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(subschema);
  if (value === null || typeof value !== 'object') return value;
  return Object.keys(value).length === 0 ? true : portable(value as JsonSchema);
}

function mapValues(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([name, s]) => [name, subschema(s)]));
}
