// Exact doubles out of FalkorDB, which prints every double with 15 significant
// digits (`%.15g`, in every reply format) and so loses the last bits. The query
// also asks for each float split into two halves of at most 26 bits (Dekker's
// split), which 15 digits carry exactly; the double is rebuilt here bit for bit.
// The tenant export and tool results both use this.

import type { RespValue } from './database.js';
import { ValueType } from './value-types.js';

/**
 * Cypher for `[scale, hi, lo]` of the float `value`: value × 2^scale = hi + lo,
 * each half exact in 15 digits (the scale keeps the halves of very large and
 * very small values finite and normal). `v` names the caller's variables,
 * unique where the expression nests.
 */
export function splitExpression(value: string, v: string): string {
  const [s, x, h] = [`s${v}`, `x${v}`, `h${v}`];
  const scale = `CASE WHEN abs(${v}) >= 1e299 THEN -100 WHEN abs(${v}) < 1e-290 THEN 100 ELSE 0 END`;
  return `[${v} IN [${value}] | [${s} IN [${scale}] | [${x} IN [${v} * 2.0^${s}] | [${h} IN [134217729.0 * ${x} - (134217729.0 * ${x} - ${x})] | [${s}, ${h}, ${x} - ${h}]][0]][0]][0]][0]`;
}

/** A compact reply part as a list; anything else as an empty one. */
export function asArray(value: RespValue | undefined): RespValue[] {
  return Array.isArray(value) ? value : [];
}

/** A compact reply cell without type tags: lists stay lists, scalars become their text. */
export function untyped(cell: RespValue | undefined): unknown {
  const [type, value] = asArray(cell);
  return Number(type) === ValueType.Array ? asArray(value).map(untyped) : String(value);
}

/**
 * Rounds a float read from 15 digits to the nearest value with 26 significant
 * bits. The scale is applied in two powers of two: for a half below 2^-998 one
 * power alone would overflow to Infinity.
 */
function to26Bits(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const shift = 25 - Math.floor(Math.log2(Math.abs(value)));
  const [a, b] = [2 ** Math.trunc(shift / 2), 2 ** (shift - Math.trunc(shift / 2))];
  return Math.round(value * a * b) / a / b;
}

/**
 * The double behind the finite, non-zero `printed` (15 digits), rebuilt from its
 * split; undefined when the split is missing or does not agree with the print
 * (a server whose arithmetic differs, or an expression such as rand() that gave
 * another value when the split was taken).
 */
export function exactDouble(printed: string, split: unknown): number | undefined {
  if (!Array.isArray(split) || split.length !== 3) return undefined;
  const approx = Number(printed);
  const [scale, hi, lo] = split.map(Number) as [number, number, number];
  const value = (to26Bits(hi) + to26Bits(lo)) * 2 ** -scale;
  if (!Number.isFinite(value) || Math.abs(value - approx) > Math.abs(approx) * 1e-13) return undefined;
  return value;
}
