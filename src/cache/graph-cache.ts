// A layer over one tenant's graph operations: caches schemas, the graph list
// and (when configured) read-only query results on this instance, checks each
// entry against the version token in the database server before using it, and
// bumps the tokens after every change the layer passes on.
//
// Ordering that keeps a stale entry from ever being stored under a newer token:
// a read fetches the token BEFORE it runs and stores its result under that token;
// a change bumps the tokens AFTER it completed. A read that ran before a change
// finished therefore always holds a token the change has since deleted.

import { LRUCache } from 'lru-cache';
import type { Config } from '../config/index.js';
import type { Database } from '../falkordb/database.js';
import type { GraphExplain, GraphOperations, GraphQuery, GraphSchema } from '../falkordb/graphs.js';
import { queryChangedGraph } from '../falkordb/query-changed.js';
import type { ShapedReply } from '../falkordb/shape.js';
import type { Logger } from '../logger.js';
import type { CacheKind, GatewayMetrics } from '../observability/metrics.js';
import { parseTenantGraphKey, tenantKeyPrefix } from '../tenancy/keys.js';
import { graphListCacheKey, queryCacheKey, schemaCacheKey } from './cache-keys.js';
import { createCacheVersions, type CacheVersions, type VersionToken } from './versions.js';
import { boundedCache } from '../bounded-cache.js';

/** Schemas and graph lists are small; this many entries of each bound their memory on one instance. */
export const METADATA_CACHE_MAX_ENTRIES = 10_000;

interface Entry<T> {
  /** The tenant it belongs to; checked again on every hit. */
  tenant: string;
  /** The version token read before the value was computed. */
  version: string;
  value: T;
}

export interface GraphCacheDeps {
  /** The gateway's own connection: version tokens are gateway state, which a tenant's database user cannot reach. */
  database: Database;
  config: Config['cache'];
  metrics: Pick<GatewayMetrics, 'cacheLookup'>;
  logger: Logger;
  /**
   * When read-only queries may go to replicas: how far behind the primary they
   * may be. A graph's schema or query result is stored only under a version
   * token older than this, so a lagging replica's answer is never stored as current.
   */
  replicaLagMs?: number;
  /** Injectable for tests. */
  versions?: CacheVersions;
}

export interface GraphCache {
  /** The tenant's graph operations with caching and invalidation added. */
  wrap(tenant: string, graphs: GraphOperations): GraphOperations;
}

export function createGraphCache(deps: GraphCacheDeps): GraphCache {
  const { config, metrics, logger } = deps;
  const replicaLagMs = deps.replicaLagMs ?? 0;
  const versions = deps.versions ?? createCacheVersions(deps.database);
  const metadataCache = <T extends object>() =>
    config.schemaTtlMs > 0 ? boundedCache<string, Entry<T>>(METADATA_CACHE_MAX_ENTRIES, { ttl: config.schemaTtlMs }) : undefined;
  const schemas = metadataCache<GraphSchema>();
  const lists = metadataCache<string[]>();
  const results =
    config.queryTtlMs > 0
      ? new LRUCache<string, Entry<ShapedReply>>({
          ttl: config.queryTtlMs,
          maxSize: config.queryMaxBytes,
          // One huge result must not push out everything else.
          maxEntrySize: Math.max(1, Math.floor(config.queryMaxBytes / 4)),
          sizeCalculation: (entry, key) => key.length + JSON.stringify(entry.value).length,
        })
      : undefined;

  async function cached<T>(
    cache: LRUCache<string, Entry<T>>,
    kind: CacheKind,
    tenant: string,
    key: string,
    currentVersion: () => Promise<VersionToken>,
    compute: () => Promise<T>,
    minAgeMs = 0,
  ): Promise<T> {
    let version: VersionToken;
    try {
      version = await currentVersion();
    } catch (error) {
      // Without the token nothing can be checked: go to the database, which reports its own trouble.
      logger.debug({ err: error instanceof Error ? error.message : String(error), cache: kind }, 'cache version unreadable; not using the cache');
      metrics.cacheLookup(tenant, kind, false);
      return compute();
    }
    const entry = cache.get(key);
    if (entry !== undefined && entry.version === version.token && entry.tenant === tenant) {
      metrics.cacheLookup(tenant, kind, true);
      return entry.value;
    }
    metrics.cacheLookup(tenant, kind, false);
    // Errors propagate before anything is stored: failures are never cached.
    const value = await compute();
    if (version.ageMs >= minAgeMs) cache.set(key, { tenant, version: version.token, value });
    return value;
  }

  return {
    wrap(tenant, graphs) {
      /** The graph name when `key` is one of the tenant's graph keys; anything else passes through uncached. */
      const ownGraph = (key: string): string | undefined => {
        const parsed = parseTenantGraphKey(key);
        return parsed !== undefined && parsed.tenant === tenant ? parsed.graph : undefined;
      };

      const graphVersion = (graph: string) => () => versions.graph(tenant, graph, replicaLagMs > 0);

      const bump = async (graph: string | undefined, list: boolean): Promise<void> => {
        try {
          await versions.bump(tenant, graph === undefined ? [] : [graph], list);
        } catch (error) {
          // The change itself went through; caches catch up within their TTL.
          logger.warn({ tenant, err: error instanceof Error ? error.message : String(error) }, 'could not invalidate cached graph data after a change; caches catch up within their TTL');
        }
      };

      /** Runs a change, then bumps: the graph when it (may have) changed, the list always (a write creates a missing graph). */
      const change = async <T>(graph: string, run: () => Promise<T>, changedGraph: (result: T) => boolean): Promise<T> => {
        let result: T;
        try {
          result = await run();
        } catch (error) {
          await bump(graph, true);
          throw error;
        }
        await bump(changedGraph(result) ? graph : undefined, true);
        return result;
      };

      return {
        get database() {
          return graphs.database;
        },

        query(q: GraphQuery) {
          const graph = ownGraph(q.key);
          if (graph === undefined) return graphs.query(q);
          if (!q.readOnly) return change(graph, () => graphs.query(q), (reply) => queryChangedGraph(reply.stats));
          const key = results === undefined ? undefined : queryCacheKey({ tenant, graph, query: q.query, params: q.params, maxRows: q.maxRows });
          if (results === undefined || key === undefined) return graphs.query(q);
          return cached(results, 'query', tenant, key, graphVersion(graph), () => graphs.query(q), replicaLagMs);
        },

        // A plan is neither a query result nor a change: it is never looked up, stored or bumped.
        explain(q: GraphExplain) {
          return graphs.explain(q);
        },

        listKeys(prefix: string) {
          if (lists === undefined || prefix !== tenantKeyPrefix(tenant)) return graphs.listKeys(prefix);
          return cached(lists, 'graph_list', tenant, graphListCacheKey(tenant), () => versions.graphList(tenant), () => graphs.listKeys(prefix));
        },

        schema(key: string, timeoutMs: number) {
          const graph = ownGraph(key);
          if (schemas === undefined || graph === undefined) return graphs.schema(key, timeoutMs);
          return cached(schemas, 'schema', tenant, schemaCacheKey(tenant, graph), graphVersion(graph), () => graphs.schema(key, timeoutMs), replicaLagMs);
        },

        // A constraint changes the schema, and creating one on a missing graph creates the graph.
        createConstraint(key, spec, timeoutMs) {
          const graph = ownGraph(key);
          if (graph === undefined) return graphs.createConstraint(key, spec, timeoutMs);
          return change(graph, () => graphs.createConstraint(key, spec, timeoutMs), () => true);
        },

        dropConstraint(key, spec, timeoutMs) {
          const graph = ownGraph(key);
          if (graph === undefined) return graphs.dropConstraint(key, spec, timeoutMs);
          return change(graph, () => graphs.dropConstraint(key, spec, timeoutMs), () => true);
        },

        deleteGraph(key: string) {
          const graph = ownGraph(key);
          if (graph === undefined) return graphs.deleteGraph(key);
          return change(graph, () => graphs.deleteGraph(key), () => true);
        },
      };
    },
  };
}
