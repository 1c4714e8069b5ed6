// Reads property values out of `--compact` GRAPH.QUERY replies into their file
// form, keeping the FalkorDB type. FalkorDB prints doubles with 15 significant
// digits, which loses the last bits, so the export query also asks for every
// float split into two halves of at most 26 bits each (Dekker's split), each of
// which 15 digits carry exactly; the float is rebuilt here bit for bit.

import { GatewayError } from '../errors.js';
import type { RespValue } from '../falkordb/database.js';
import type { FileValue, NonFiniteFloat } from './format.js';
import { ValueType } from '../falkordb/value-types.js';

const T = ValueType;

/** How deep in nested lists a float is still exported exactly (deeper ones are refused). */
export const EXACT_LIST_DEPTH = 4;

const SCALE = 'CASE WHEN abs(w) >= 1e299 THEN -100 WHEN abs(w) < 1e-290 THEN 100 ELSE 0 END';

/** `[scale, hi, lo]` for a float expression: value × 2^scale = hi + lo, each half exact in 15 digits. */
function splitExpression(value: string, v: string): string {
  const s = SCALE.replaceAll('w', v);
  return `[${v} IN [${value}] | [x${v} IN [${v} * 2.0^(${s})] | [${s}, 134217729.0 * x${v} - (134217729.0 * x${v} - x${v}), x${v} - (134217729.0 * x${v} - (134217729.0 * x${v} - x${v}))]][0]][0]`;
}

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

/** A compact reply part as a list; anything else as an empty one. */
export function asArray(value: RespValue | undefined): RespValue[] {
  return Array.isArray(value) ? value : [];
}

/** A compact reply cell without type tags: lists stay lists, scalars become their text. */
export function untyped(cell: RespValue | undefined): unknown {
  const [type, value] = asArray(cell);
  return Number(type) === T.Array ? asArray(value).map(untyped) : String(value);
}

/** Rounds a float read from 15 digits to the nearest value with 26 significant bits. */
function to26Bits(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const scale = 2 ** (25 - Math.floor(Math.log2(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

function nonFinite(printed: string): NonFiniteFloat | undefined {
  if (/^-?nan$/i.test(printed)) return 'NaN';
  if (/^inf(inity)?$/i.test(printed)) return 'Infinity';
  if (/^-inf(inity)?$/i.test(printed)) return '-Infinity';
  if (printed === '-0') return '-0';
  return undefined;
}

/** The exact double behind `printed` (15 digits), from its split. */
export function exactFloat(printed: string, split: unknown): FileValue {
  const special = nonFinite(printed);
  if (special !== undefined) return { $float: special };
  const approx = Number(printed);
  if (approx === 0) return { $float: 0 };
  if (!Array.isArray(split) || split.length !== 3) throw new Error(`no exact form for the float ${printed}`);
  const [scale, hi, lo] = split.map(Number) as [number, number, number];
  const value = (to26Bits(hi) + to26Bits(lo)) * 2 ** -scale;
  // A guard against a server whose arithmetic differs: the rebuilt value must agree with the printed one.
  if (!Number.isFinite(value) || Math.abs(value - approx) > Math.abs(approx) * 1e-13) throw new Error(`the exact form of the float ${printed} does not match it`);
  return { $float: value };
}

function integer(text: string): FileValue {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : { $int: text };
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, '0');
}

function year(y: number): string {
  if (y >= 0 && y <= 9999) return pad(y, 4);
  return `${y < 0 ? '-' : '+'}${pad(y, 4)}`;
}

function utc(seconds: number): Date {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new Error(`a temporal value of ${seconds} seconds is out of range`);
  return date;
}

// Temporal values arrive as epoch seconds: a local date-time, a date at midnight,
// a time on 1900-01-01, and a duration as 1970-01-01 plus the duration.
const TIME_EPOCH = -2208988800;

function datetime(seconds: number): string {
  const d = utc(seconds);
  return `${year(d.getUTCFullYear())}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

function time(seconds: number): string {
  const s = (((seconds - TIME_EPOCH) % 86400) + 86400) % 86400;
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

function duration(seconds: number): string {
  const d = utc(seconds);
  const [y, mo, dd, h, mi, s] = [d.getUTCFullYear() - 1970, d.getUTCMonth(), d.getUTCDate() - 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  const datePart = `${y ? `${y}Y` : ''}${mo ? `${mo}M` : ''}${dd ? `${dd}D` : ''}`;
  const timePart = `${h ? `${h}H` : ''}${mi ? `${mi}M` : ''}${s ? `${s}S` : ''}`;
  return datePart === '' && timePart === '' ? 'PT0S' : `P${datePart}${timePart === '' ? '' : `T${timePart}`}`;
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
      if (exact?.split === undefined && nonFinite(printed) === undefined && Number(printed) !== 0) throw new NestedFloatError(printed);
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
      return { $point: { latitude: Math.fround(Number(lat)), longitude: Math.fround(Number(lon)) } };
    }
    case T.VectorF32:
      return { $vecf32: asArray(value).map((v) => Math.fround(Number(v))) };
    case T.DateTime:
      return { $datetime: datetime(Number(value)) };
    case T.Date: {
      const text = datetime(Number(value));
      return { $date: text.slice(0, text.indexOf('T')) };
    }
    case T.Time:
      return { $time: time(Number(value)) };
    case T.Duration:
      return { $duration: duration(Number(value)) };
    default:
      throw new GatewayError('QUERY_FAILED', `FalkorDB returned a property value of a type this export does not know (type ${String(type)}); upgrade the gateway.`);
  }
}
