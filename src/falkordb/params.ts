// Turns a tool call's `parameters` object into FalkorDB's `CYPHER name=value …`
// prefix. Values are serialised here, never spliced into the query text, and
// every parameter name is checked, because FalkorDB reads names unquoted.
// Map keys may be any text FalkorDB can hold: each is written between
// backticks, which FalkorDB (4.16) ends at the next backtick with no escape.

import { GatewayError } from '../errors.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** How deep lists and maps may nest in one parameter's value: a list of lists is 2 levels. */
export const MAX_PARAMETER_DEPTH = 32;

const TOO_DEEP = `Parameters are nested deeper than ${MAX_PARAMETER_DEPTH} levels (lists and maps inside one another); flatten them, e.g. pass rows as a list of maps.`;

function invalid(message: string): GatewayError {
  return new GatewayError('PARAMETERS_INVALID', message);
}

function checkName(name: string, what: string): void {
  if (!IDENTIFIER.test(name)) {
    throw invalid(
      `${what} ${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)} is not allowed: use letters, digits and _, starting with a letter or _ (at most 128 characters).`,
    );
  }
}

/**
 * Throws PARAMETERS_INVALID when `parameters` nest deeper than MAX_PARAMETER_DEPTH.
 * Iterative and stopping at the first level too deep, so a value nested
 * hundreds of thousands of levels deep costs no stack: call it before
 * anything recursive (JSON.stringify, serialisation, hashing) sees the value.
 */
export function assertParametersDepth(parameters: Record<string, unknown> | undefined): void {
  const pending: Array<[value: unknown, depth: number]> = Object.values(parameters ?? {}).map((value) => [value, 1]);
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_PARAMETER_DEPTH) throw invalid(TOO_DEEP);
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
    }
  }
}

/**
 * `` `key` `` for a map key. FalkorDB reads an escaped name up to the next backtick
 * and knows no escape for one inside (a doubled ``` `` ``` is refused too), and
 * the server reads the query as C text, so NUL would cut it short: a key with
 * either is refused. So is one with a lone UTF-16 surrogate, which UTF-8 turns
 * into U+FFFD (two such keys would become one). Any other key reaches the
 * database as it was sent.
 */
function mapKey(key: string): string {
  const shown = (): string => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
  if (key.includes('`') || key.includes('\0')) {
    throw invalid(`Map key ${shown()} holds a backtick (\`) or a NUL character, which FalkorDB cannot read in a parameter's map key; rename the key, or pass such data as a list of [key, value] pairs.`);
  }
  if (!key.isWellFormed()) {
    throw invalid(`Map key ${shown()} holds half of a UTF-16 surrogate pair, which is no character and cannot be stored as sent; send the key as valid Unicode text.`);
  }
  return `\`${key}\``;
}

function literal(value: unknown, depth: number): string {
  if (value === null) return 'null';
  if (typeof value === 'object' && depth > MAX_PARAMETER_DEPTH) throw invalid(TOO_DEEP);
  switch (typeof value) {
    case 'string':
      // Never the value itself in the message: parameter values are the caller's data.
      if (value.includes('\0')) {
        throw invalid('A parameter value holds a NUL character, which FalkorDB reads as the end of the query (the rest would be cut off); remove it, or send such data encoded (e.g. base64).');
      }
      if (!value.isWellFormed()) {
        throw invalid('A parameter value holds half of a UTF-16 surrogate pair, which is no character: FalkorDB would store U+FFFD in its place. Send the value as valid Unicode text.');
      }
      // FalkorDB decodes exactly these two escapes inside a double-quoted string.
      return `"${value.replace(/["\\]/g, '\\$&')}"`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw invalid('Parameter values must be finite numbers (no NaN or Infinity).');
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => literal(v, depth + 1)).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
        return `${mapKey(k)}:${literal(v, depth + 1)}`;
      });
      return `{${entries.join(',')}}`;
    }
    default:
      throw invalid(`Parameter values must be JSON values (got ${typeof value}).`);
  }
}

/** `CYPHER a=1 b="x" ` for `{a: 1, b: 'x'}`; empty string when there are none. */
export function cypherParamsPrefix(params: Record<string, unknown> | undefined): string {
  if (params === undefined) return '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    checkName(name, 'Parameter name');
    parts.push(`${name}=${literal(value, 1)}`);
  }
  return parts.length === 0 ? '' : `CYPHER ${parts.join(' ')} `;
}
