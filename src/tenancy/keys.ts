// The ONE place a database key is built from (tenant, graph), and parsed back.
// Prefix = tenant id with every character outside [A-Za-z0-9.-] percent-encoded
// (UTF-8, upper-case hex), then `_`. The prefix never contains `_` or `:`, so the
// first `_` of a key ends it, and no tenant key can start with the `gw:` prefix.

import { validateGraphName } from './graph-name.js';
import { validateTenantId } from './tenant-id.js';

/** Prefix of the gateway's own state keys; unreachable from any tenant key. */
export const GATEWAY_STATE_PREFIX = 'gw:';

const SAFE = /^[A-Za-z0-9.-]$/;

function encodeTenant(tenant: string): string {
  let out = '';
  for (const ch of tenant) {
    if (SAFE.test(ch)) {
      out += ch;
    } else {
      for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/**
 * The tenant id in the form gateway state keys use (`gw:…:<id>`): the same
 * encoding as the graph key prefix, so it never holds `:`, `_`, `*` or spaces.
 */
export function encodedTenantId(tenant: string): string {
  return encodeTenant(validateTenantId(tenant));
}

/** `acme` → `acme_`; `a_b` → `a%5Fb_`. */
export function tenantKeyPrefix(tenant: string): string {
  return `${encodedTenantId(tenant)}_`;
}

/** The glob (SCAN MATCH, ACL key rule) that matches exactly the keys starting with `prefix`: its glob specials escaped, then `*`. */
export function keyPrefixGlob(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/**
 * The glob that matches exactly the keys of `tenant`, for a database ACL key
 * rule (`~acme_*`). The prefix has no `_` before its end, so tenant `a` (`a_*`)
 * never matches `a%5Fb_c`.
 */
export function tenantKeyPattern(tenant: string): string {
  return keyPrefixGlob(tenantKeyPrefix(tenant));
}

/** The database key of graph `graph` of tenant `tenant`. */
export function tenantGraphKey(tenant: string, graph: string): string {
  return tenantKeyPrefix(tenant) + validateGraphName(graph);
}

/**
 * The (tenant, graph) a key belongs to, or undefined when the key is not a
 * tenant graph key (gateway state, foreign keys, malformed encodings).
 */
export function parseTenantGraphKey(key: string): { tenant: string; graph: string } | undefined {
  const cut = key.indexOf('_');
  if (cut <= 0) return undefined;
  const encoded = key.slice(0, cut);
  const graph = key.slice(cut + 1);
  if (!/^(?:[A-Za-z0-9.-]|%[0-9A-F]{2})+$/.test(encoded)) return undefined;
  let tenant: string;
  try {
    tenant = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  // Only canonical encodings map back: this keeps the mapping one-to-one.
  if (encodeTenant(tenant) !== encoded) return undefined;
  try {
    validateTenantId(tenant);
    validateGraphName(graph);
  } catch {
    return undefined;
  }
  return { tenant, graph };
}

/** Graph names of `tenant` among `keys` (e.g. GRAPH.LIST output), prefix removed, sorted. */
export function tenantGraphsAmong(tenant: string, keys: Iterable<string>): string[] {
  const graphs: string[] = [];
  for (const key of keys) {
    const parsed = parseTenantGraphKey(key);
    if (parsed !== undefined && parsed.tenant === tenant) graphs.push(parsed.graph);
  }
  return graphs.sort();
}
