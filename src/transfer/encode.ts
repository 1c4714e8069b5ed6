// Turns file values into query parameters and the Cypher that stores them with
// their type. Data only ever travels as parameters (`CYPHER rows=[…]`); the
// query text holds backtick-quoted names and, for typed values, the function
// that rebuilds them (point(), localdatetime(), vecf32(), …) applied to a parameter.

import {
  DATE_PATTERN,
  DATETIME_PATTERN,
  DURATION_PATTERN,
  TIME_PATTERN,
  type FileValue,
} from './format.js';

/**
 * How a value is rebuilt: `p` travels as a plain parameter literal; a special
 * kind goes through its function; a list holding a special value is rebuilt
 * element by element (FalkorDB's CASE evaluates every branch, so a per-element
 * switch on the type is not possible).
 */
export type Shape = 'p' | 'point' | 'datetime' | 'date' | 'time' | 'duration' | 'vecf32' | 'nonfinite' | 'tiny' | Shape[];

// Doubles below this print in a form FalkorDB's parser rejects ("Float overflow"):
// they travel scaled by 2^100 and are divided back on the server, exactly.
const TINY = 1e-300;

function isTagged(value: FileValue): value is Exclude<FileValue, string | boolean | number | FileValue[]> {
  return typeof value === 'object' && !Array.isArray(value);
}

export function shapeOf(value: FileValue): Shape {
  if (Array.isArray(value)) {
    const shapes = value.map(shapeOf);
    return shapes.every((s) => s === 'p') ? 'p' : shapes;
  }
  if (!isTagged(value)) return 'p';
  if ('$int' in value) return 'p';
  if ('$float' in value) {
    const f = value.$float;
    if (f === 'NaN' || f === 'Infinity' || f === '-Infinity') return 'nonfinite';
    if (typeof f === 'number' && f !== 0 && Math.abs(f) < TINY) return 'tiny';
    return 'p';
  }
  if ('$point' in value) return 'point';
  if ('$vecf32' in value) return 'vecf32';
  if ('$datetime' in value) return 'datetime';
  if ('$date' in value) return 'date';
  if ('$time' in value) return 'time';
  return 'duration';
}

/** A stable text form of a shape, for grouping rows that share one query. */
export function shapeKey(shape: Shape): string {
  return typeof shape === 'string' ? shape : `[${shape.map(shapeKey).join(',')}]`;
}

const FUNCTIONS: Record<Exclude<Shape, 'p' | 'nonfinite' | 'tiny' | Shape[]>, string> = {
  point: 'point',
  datetime: 'localdatetime',
  date: 'date',
  time: 'localtime',
  duration: 'duration',
  vecf32: 'vecf32',
};

/** The Cypher expression that rebuilds a value of `shape` from the parameter at `access`. */
export function valueExpression(shape: Shape, access: string): string {
  if (Array.isArray(shape)) return `[${shape.map((s, i) => valueExpression(s, `${access}[${i}]`)).join(', ')}]`;
  switch (shape) {
    case 'p':
      return access;
    case 'nonfinite':
      return `(${access} / 0.0)`;
    case 'tiny':
      return `(${access} / 2.0^100)`;
    default:
      return `${FUNCTIONS[shape]}(${access})`;
  }
}

/** A double as a Cypher float literal: always with a `.` or an exponent, so it stays a float. */
export function floatLiteral(value: number): string {
  if (Object.is(value, -0)) return '-0.0';
  const text = String(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** FalkorDB decodes exactly `\"` and `\\` inside a double-quoted parameter string. */
export function stringLiteral(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

function mapLiteral(entries: Record<string, string>): string {
  return `{${Object.entries(entries).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
}

function ints(match: RegExpExecArray, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  names.forEach((name, i) => {
    const part = match[i + 1];
    if (part !== undefined) out[name] = String(Number(part));
  });
  return out;
}

function parsed(pattern: RegExp, text: string): RegExpExecArray {
  const match = pattern.exec(text);
  if (match === null) throw new Error(`${JSON.stringify(text)} does not have the expected form`);
  return match;
}

/** The parameter literal for a plain value (strings, booleans, integers, floats, lists of them). */
function plainLiteral(value: FileValue): string {
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(plainLiteral).join(', ')}]`;
  if ('$int' in value) return value.$int;
  if ('$float' in value) return typeof value.$float === 'number' ? floatLiteral(value.$float) : floatLiteral(-0);
  throw new Error('not a plain value');
}

/** The parameter literal for `value`, which has shape `shape`. */
export function parameterLiteral(shape: Shape, value: FileValue): string {
  if (Array.isArray(shape)) {
    const list = value as FileValue[];
    return `[${shape.map((s, i) => parameterLiteral(s, list[i] as FileValue)).join(', ')}]`;
  }
  if (shape === 'p') return plainLiteral(value);
  const tagged = value as Record<string, unknown>;
  switch (shape) {
    case 'nonfinite':
      return tagged.$float === 'NaN' ? '0.0' : tagged.$float === 'Infinity' ? '1.0' : '-1.0';
    case 'tiny':
      return floatLiteral((tagged.$float as number) * 2 ** 100);
    case 'point': {
      const p = tagged.$point as { latitude: number; longitude: number };
      return mapLiteral({ latitude: floatLiteral(p.latitude), longitude: floatLiteral(p.longitude) });
    }
    case 'vecf32':
      return `[${(tagged.$vecf32 as number[]).map(floatLiteral).join(', ')}]`;
    case 'datetime':
      return mapLiteral(ints(parsed(DATETIME_PATTERN, tagged.$datetime as string), ['year', 'month', 'day', 'hour', 'minute', 'second']));
    case 'date':
      return mapLiteral(ints(parsed(DATE_PATTERN, tagged.$date as string), ['year', 'month', 'day']));
    case 'time':
      return mapLiteral(ints(parsed(TIME_PATTERN, tagged.$time as string), ['hour', 'minute', 'second']));
    case 'duration': {
      const fields = ints(parsed(DURATION_PATTERN, tagged.$duration as string), ['years', 'months', 'days', 'hours', 'minutes', 'seconds']);
      return mapLiteral(Object.keys(fields).length === 0 ? { seconds: '0' } : fields);
    }
  }
}

/** A name quoted for Cypher text; the file schema already refused backticks, this is the last line. */
export function quoteName(name: string): string {
  if (name.includes('`') || name.includes('\0') || name === '') throw new Error(`the name ${JSON.stringify(name)} cannot be quoted in Cypher`);
  return `\`${name}\``;
}
