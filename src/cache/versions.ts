// Version tokens of a tenant's graphs and graph list, kept in the database
// server so every gateway instance sees every other's writes. A cached entry
// remembers the token it was computed under and is used only while the token
// is still the current one.
//
// A token is a random string, never a counter: a write "bumps" by deleting the
// token, and the next reader sets a fresh one. A token lost in any other way
// (expiry, eviction, a flush) can never come back with an old value either, so
// no entry computed before a write can ever match a token set after it.

import { randomBytes } from 'node:crypto';
import type { Database } from '../falkordb/database.js';
import { stateKeys } from '../state/keys.js';

/** Tokens of graphs nobody touches expire; the next reader sets a new one (one cache miss). */
export const VERSION_TOKEN_TTL_MS = 24 * 3600 * 1000;

export interface VersionToken {
  token: string;
  /**
   * How long the token has been current, as the database server counts it; 0
   * when not asked for or not known. A token is set only after the last change
   * completed, so the change is at least this old.
   */
  ageMs: number;
}

export interface CacheVersions {
  /** The current token of a graph's contents and schema; `withAge` also reads its age (same round trip). */
  graph(tenant: string, graph: string, withAge?: boolean): Promise<VersionToken>;
  /** The current token of the tenant's list of graphs. */
  graphList(tenant: string): Promise<VersionToken>;
  /**
   * Invalidates, on every instance, what was cached for these graphs of the
   * tenant, and its graph list when `list` is set. Call it after the change has
   * completed, never before: a read that starts after this returns sees the change.
   */
  bump(tenant: string, graphs: readonly string[], list: boolean): Promise<void>;
}

function newToken(): string {
  return randomBytes(12).toString('base64url');
}

/** `db` must be the gateway's own connection: the tokens are gateway state, outside every tenant's keys. */
export function createCacheVersions(db: Database, tokenTtlMs = VERSION_TOKEN_TTL_MS): CacheVersions {
  const current = async (key: string, withAge: boolean): Promise<VersionToken> => {
    // Sent together: a token replaced between the two only makes the age look younger, never older.
    const [existing, ttl] = await Promise.all([db.sendCommand(['GET', key]), withAge ? db.sendCommand(['PTTL', key]) : Promise.resolve(null)]);
    if (typeof existing === 'string') {
      const remaining = Number(ttl);
      return { token: existing, ageMs: withAge && remaining > 0 ? Math.max(0, tokenTtlMs - remaining) : 0 };
    }
    // NX GET: whoever sets first wins; everyone else gets the winner's token back.
    const token = newToken();
    const previous = await db.sendCommand(['SET', key, token, 'NX', 'GET', 'PX', String(tokenTtlMs)]);
    return { token: typeof previous === 'string' ? previous : token, ageMs: 0 };
  };
  return {
    graph: (tenant, graph, withAge = false) => current(stateKeys.cacheGraphVersion(tenant, graph), withAge),
    graphList: (tenant) => current(stateKeys.cacheGraphListVersion(tenant), false),
    async bump(tenant, graphs, list) {
      const keys = graphs.map((graph) => stateKeys.cacheGraphVersion(tenant, graph));
      if (list) keys.push(stateKeys.cacheGraphListVersion(tenant));
      // One command, one round trip; the keys share the tenant's hash tag, so it also works on a Cluster.
      if (keys.length > 0) await db.sendCommand(['DEL', ...keys]);
    },
  };
}
