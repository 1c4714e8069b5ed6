// Reads property values out of `--compact` GRAPH.QUERY replies into their file
// form, keeping the FalkorDB type. FalkorDB prints doubles with 15 significant
// digits, so the export query also asks for every float's split
// (falkordb/exact-floats.ts), and the float is rebuilt from it bit for bit.

import { GatewayError } from '../errors.js';
import type { RespValue } from '../falkordb/database.js';
import type { FileValue } from './format.js';
import { dateText, durationText, float32, localDateTimeText, localTimeText, nonFiniteFloat } from '../falkordb/compact-values.js';
import { asArray, exactDouble, splitExpression } from '../falkordb/exact-floats.js';
import { ValueType } from '../falkordb/value-types.js';

const T = ValueType;

/** How deep in nested lists a float is still exported exactly (deeper ones are refused). */
export const EXACT_LIST_DEPTH = 4;

/** A float, or 0.0 for anything else: FalkorDB's CASE evaluates every branch, so arithmetic must never see a string. */
function asFloat(value: string): string {
  return `(CASE WHEN typeOf(${value}) = 'Float' THEN ${value} ELSE 0.0 END)`;
}

/** Per entity: `[[key, split]…]` for its float properties. */
export function floatColumn(entity: string): string {
  return `[k IN keys(${entity}) WHERE typeOf(${entity}[k]) = 'Float' | [k, ${splitExpression(`${entity}[k]`, 'w')}]]`;
}

/** Per entity: `[[key, [split…]]…]` for its list properties that hold a float, one split per element. */
export function listColumn(entity: string): string {
  const list = `${entity}[k]`;
  return `[k IN keys(${entity}) WHERE typeOf(${list}) = 'List' AND any(f IN ${list} WHERE typeOf(f) = 'Float') | [k, [e IN ${list} | ${splitExpression(asFloat('e'), 'w')}]]]`;
}

/**
 * `[split, [children…]]` for one value, down to EXACT_LIST_DEPTH levels of
 * lists: costly, so only asked for the rare property that nests floats in
 * lists of lists.
 */
export function nestedExpression(value: string, depth = EXACT_LIST_DEPTH): string {
  const children = depth === 0 ? '[]' : `[e${depth} IN (CASE WHEN typeOf(${value}) = 'List' THEN ${value} ELSE [] END) | ${nestedExpression(`e${depth}`, depth - 1)}]`;
  return `[${splitExpression(asFloat(value), `w${depth}`)}, ${children}]`;
}

/** What the export knows of a value's floats: its split, and its elements' when it is a list. */
export interface ExactInfo {
  split?: unknown;
  children?: Array<ExactInfo | undefined>;
}

/** The untyped reply of nestedExpression as ExactInfo. */
export function nestedInfo(raw: unknown): ExactInfo {
  if (!Array.isArray(raw)) return {};
  const [split, children] = raw as [unknown, unknown];
  return { split, children: Array.isArray(children) ? children.map(nestedInfo) : [] };
}

/** Thrown when a float sits deeper in lists than the batch query covers: the caller asks for that property alone. */
export class NestedFloatError extends Error {}

/** The exact double behind `printed` (15 digits), from its split. */
export function exactFloat(printed: string, split: unknown): FileValue {
  const special = nonFiniteFloat(printed);
  if (special !== undefined) return { $float: special };
  if (Number(printed) === 0) return { $float: 0 };
  if (!Array.isArray(split)) throw new Error(`no exact form for the float ${printed}`);
  const value = exactDouble(printed, split);
  if (value === undefined) throw new Error(`the exact form of the float ${printed} does not match it`);
  return { $float: value };
}

function integer(text: string): FileValue {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : { $int: text };
}

/**
 * One typed compact cell as a file value; `exact` is what the export learned of
 * its floats. Returns undefined for null (FalkorDB stores no nulls).
 */
export function decodeValue(cell: RespValue | undefined, exact: ExactInfo | undefined): FileValue | undefined {
  const [type, value] = asArray(cell);
  switch (Number(type)) {
    case T.Null:
      return undefined;
    case T.String:
      return String(value);
    case T.Integer:
      return integer(String(value));
    case T.Boolean:
      return String(value) === 'true';
    case T.Double: {
      const printed = String(value);
      if (exact?.split === undefined && nonFiniteFloat(printed) === undefined && Number(printed) !== 0) throw new NestedFloatError(printed);
      return exactFloat(printed, exact?.split);
    }
    case T.Array:
      return asArray(value).map((element, i) => {
        const decoded = decodeValue(element, exact?.children?.[i]);
        if (decoded === undefined) throw new Error('a list holds a null');
        return decoded;
      });
    case T.Point: {
      const [lat, lon] = asArray(value);
      // Points are stored as 32-bit floats, which 15 digits carry exactly.
      return { $point: { latitude: float32(lat), longitude: float32(lon) } };
    }
    case T.VectorF32:
      return { $vecf32: asArray(value).map((v) => float32(v)) };
    case T.DateTime:
      return { $datetime: localDateTimeText(Number(value)) };
    case T.Date:
      return { $date: dateText(Number(value)) };
    case T.Time:
      return { $time: localTimeText(Number(value)) };
    case T.Duration:
      return { $duration: durationText(Number(value)) };
    default:
      throw new GatewayError('QUERY_FAILED', `FalkorDB returned a property value of a type this export does not know (type ${String(type)}); upgrade the gateway.`);
  }
}
