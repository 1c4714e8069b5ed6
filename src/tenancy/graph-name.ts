// The graph-name rule of the interface contract.

import { GatewayError } from '../errors.js';

export const GRAPH_NAME_RULE = '1 to 128 characters of letters, digits, `_`, `.` and `-`, starting with a letter or digit';
const GRAPH_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isValidGraphName(value: unknown): value is string {
  return typeof value === 'string' && GRAPH_NAME.test(value);
}

/** Returns the name unchanged, or throws GRAPH_NAME_INVALID stating the rule. */
export function validateGraphName(value: unknown): string {
  if (!isValidGraphName(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value;
    throw new GatewayError('GRAPH_NAME_INVALID', `Graph name ${shown} is not allowed: use ${GRAPH_NAME_RULE} (for example "sales_2024").`);
  }
  return value;
}
