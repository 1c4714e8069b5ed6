// Turns a tool call's `parameters` object into FalkorDB's `CYPHER name=value …`
// prefix. Values are serialised here, never spliced into the query text, and
// every name is checked, because FalkorDB reads names and map keys unquoted.

import { GatewayError } from '../errors.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_DEPTH = 32;

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

function literal(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw invalid(`Parameters are nested deeper than ${MAX_DEPTH} levels.`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
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
        checkName(k, 'Map key');
        return `${k}:${literal(v, depth + 1)}`;
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
