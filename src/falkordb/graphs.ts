// Graph operations on database keys: query (compact replies shaped to JSON),
// explain, list, delete, schema and constraints. Knows nothing of tenants; callers pass built keys.

import type { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors.js';
import { keyPrefixGlob } from '../tenancy/keys.js';
import { scanKeys, type CommandOptions, type Database, type RespValue } from './database.js';
import { createConstraint, dropConstraint, type ConstraintCreated, type ConstraintDeps, type ConstraintSpec } from './constraints.js';
import { readGraphSchema, type GraphSchema } from './graph-schema.js';
import { cypherParamsPrefix } from './params.js';
import { withExactFloats } from './exact-query.js';
import { planLines } from './plan.js';
import { translateQueryError as translate } from './query-errors.js';
import { replyHasEntities, replyHasInexactDoubles, shapeReply, UnknownSchemaIdError, type GraphSchemaNames, type ShapedReply } from './shape.js';
import { boundedCache } from '../bounded-cache.js';

export interface GraphQuery {
  key: string;
  query: string;
  params?: Record<string, unknown>;
  readOnly: boolean;
  timeoutMs: number;
  maxRows: number;
  /** Refuse (RESULT_TOO_LARGE) a reply from the database bigger than this many bytes; unlimited when absent. */
  maxReplyBytes?: number;
  /** Rebuild doubles exactly with a second read-only run; on unless false (EXACT_FLOATS). */
  exactFloats?: boolean;
  /** Aborted when the caller cancelled: a query still waiting for its slot is never sent; one sent runs on to `timeoutMs`. */
  signal?: AbortSignal;
}

/** A query to plan (GRAPH.EXPLAIN), not run. */
export interface GraphExplain {
  key: string;
  query: string;
  params?: Record<string, unknown>;
  timeoutMs: number;
}

export type { GraphSchema } from './graph-schema.js';
export type { ConstraintCreated, ConstraintSpec } from './constraints.js';

// Below this much time left, a reply keeps FalkorDB's 15 digits rather than run again.
const MIN_EXACT_RUN_MS = 10;

// Client-side grace beyond FalkorDB's own TIMEOUT, for a server that does not answer at all.
const CLIENT_TIMEOUT_GRACE_MS = 2000;

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GatewayError('QUERY_TIMEOUT', 'Query timed out', { reason: 'timeout' })), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function header(reply: RespValue): string[] {
  return Array.isArray(reply) && reply.length >= 3 && Array.isArray(reply[0]) ? reply[0].map((h) => JSON.stringify(h)) : [];
}

function sameColumns(first: RespValue, exact: RespValue, added: number): boolean {
  const [a, b] = [header(first), header(exact)];
  return a.length > 0 && b.length === a.length + added && a.every((h, i) => h === b[i]);
}

/**
 * The exact reply, with the statistics of the first run (which did the work, if
 * any) and both runs' execution time added up.
 */
function withTimes(exact: RespValue, first: RespValue): RespValue {
  const stats = (reply: RespValue) => (Array.isArray(reply) && Array.isArray(reply[2]) ? reply[2] : []);
  const time = (lines: RespValue[]) => lines.map((l) => /execution time:\s*([\d.]+)/i.exec(String(l))?.[1]).find((t) => t !== undefined);
  const [a, b] = [time(stats(first)), time(stats(exact))];
  const lines = stats(first).filter((l) => !/execution time/i.test(String(l)));
  if (a !== undefined || b !== undefined) lines.push(`Query internal execution time: ${Number(a ?? 0) + Number(b ?? 0)} milliseconds`);
  return Array.isArray(exact) ? [exact[0] ?? [], exact[1] ?? [], lines] : exact;
}

export class GraphClient {
  readonly #db: Database;
  // Label/type/property-key ids only grow while a graph lives; a short TTL bounds
  // staleness after another instance deletes and recreates the same graph.
  readonly #names: LRUCache<string, GraphSchemaNames>;

  constructor(db: Database, options: { schemaNamesTtlMs?: number; maxCachedGraphs?: number } = {}) {
    this.#db = db;
    this.#names = boundedCache(options.maxCachedGraphs ?? 10_000, { ttl: options.schemaNamesTtlMs ?? 2000 });
  }

  get database(): Database {
    return this.#db;
  }

  async query(q: GraphQuery): Promise<ShapedReply> {
    const command = q.readOnly ? 'GRAPH.RO_QUERY' : 'GRAPH.QUERY';
    const params = cypherParamsPrefix(q.params);
    const started = performance.now();
    let reply = await this.#send(command, q.key, params, q.query, q.timeoutMs, { maxReplyBytes: q.maxReplyBytes });
    // The second run gets what is left of the caller's time, so the call as a whole keeps to timeoutMs.
    const left = Math.floor(q.timeoutMs - (performance.now() - started));
    const found = q.exactFloats !== false && left >= MIN_EXACT_RUN_MS && replyHasInexactDoubles(reply) ? await this.#exactReply(q, params, left) : undefined;
    // Only a reply with the same columns as the caller's query, plus the added ones, stands in for it.
    const exact = found !== undefined && sameColumns(reply, found.reply, found.addedColumns) ? found : undefined;
    const added = exact?.addedColumns ?? 0;
    if (exact !== undefined) reply = withTimes(exact.reply, reply);
    const empty = { labels: [], relationshipTypes: [], propertyKeys: [] };
    if (!replyHasEntities(reply)) return shapeReply(reply, empty, q.maxRows, added);
    try {
      return shapeReply(reply, await this.#schemaNames(q.key, false), q.maxRows, added);
    } catch (error) {
      if (!(error instanceof UnknownSchemaIdError)) throw error;
      return shapeReply(reply, await this.#schemaNames(q.key, true), q.maxRows, added);
    }
  }

  async #send(command: string, key: string, params: string, query: string, timeoutMs: number, options: Pick<CommandOptions, 'primary' | 'maxReplyBytes'> = {}): Promise<RespValue> {
    try {
      return await withDeadline(
        this.#db.sendCommand([command, key, params + query, 'TIMEOUT', String(timeoutMs), '--compact'], { integersAsStrings: true, ...options }),
        timeoutMs + CLIENT_TIMEOUT_GRACE_MS,
      );
    } catch (error) {
      throw translate(error, query);
    }
  }

  /**
   * FalkorDB prints doubles with 15 digits, so a reply that holds any is asked
   * for again, with the exact-float column (exact-query.ts), through
   * GRAPH.RO_QUERY: a query that writes is refused there before it runs, so
   * nothing is ever written twice, and keeps its 15-digit floats. A query first
   * sent with GRAPH.QUERY is asked again on the primary, as it was first, so
   * a read replica that lags never answers it with older data. Undefined
   * when there is no exact reply: the query's shape is not one the rewrite
   * reads, it writes, or the second run failed.
   */
  async #exactReply(q: GraphQuery, params: string, timeoutMs: number): Promise<{ reply: RespValue; addedColumns: number } | undefined> {
    const rewritten = withExactFloats(q.query);
    if (rewritten === undefined) return undefined;
    try {
      return { reply: await this.#send('GRAPH.RO_QUERY', q.key, params, rewritten.query, timeoutMs, { primary: !q.readOnly, maxReplyBytes: q.maxReplyBytes }), addedColumns: rewritten.addedColumns };
    } catch {
      return undefined;
    }
  }

  /**
   * The execution plan FalkorDB would run `q.query` with, as its lines; nothing runs, so
   * nothing is written and a graph is never created (a missing one is GRAPH_NOT_FOUND).
   * A query that does not parse fails as it would when run (QUERY_FAILED, with its place).
   */
  async explain(q: GraphExplain): Promise<string[]> {
    const command = ['GRAPH.EXPLAIN', q.key, cypherParamsPrefix(q.params) + q.query];
    try {
      return planLines(await withDeadline(this.#db.sendCommand(command), q.timeoutMs + CLIENT_TIMEOUT_GRACE_MS));
    } catch (error) {
      throw translate(error, q.query);
    }
  }

  /**
   * Graph keys starting with `prefix`, read from the keyspace with SCAN: exact
   * right after a delete (GRAPH.LIST can lag an asynchronous delete), and the
   * server filters, so a tenant's listing does not ship every tenant's names.
   * On a cluster every primary is asked, since a tenant's graphs spread over the shards.
   */
  async listKeys(prefix: string): Promise<string[]> {
    const match = keyPrefixGlob(prefix);
    try {
      return await scanKeys(this.#db, { match, type: 'graphdata' });
    } catch (error) {
      throw translate(error);
    }
  }

  /** Deletes a graph; false when there was none. */
  async deleteGraph(key: string): Promise<boolean> {
    this.#names.delete(key);
    try {
      await this.#db.sendCommand(['GRAPH.DELETE', key]);
      return true;
    } catch (error) {
      const translated = translate(error);
      if (translated.code === 'GRAPH_NOT_FOUND') return false;
      throw translated;
    }
  }

  /** Names, exact counts, indexes and constraints, with property keys and endpoints sampled (graph-schema.ts). */
  async schema(key: string, timeoutMs: number): Promise<GraphSchema> {
    return readGraphSchema((query, ms) => this.query({ key, query, readOnly: true, timeoutMs: ms, maxRows: 100_000 }), timeoutMs);
  }

  /** Creates a constraint (and the index a unique one needs), waiting within `timeoutMs` for FalkorDB to check it. */
  async createConstraint(key: string, spec: ConstraintSpec, timeoutMs: number): Promise<ConstraintCreated> {
    return createConstraint(this.#constraintDeps(key), key, spec, timeoutMs);
  }

  /** Drops a constraint; false when there was none. */
  async dropConstraint(key: string, spec: ConstraintSpec, timeoutMs: number): Promise<boolean> {
    return dropConstraint(this.#constraintDeps(key), key, spec, timeoutMs);
  }

  #constraintDeps(key: string): ConstraintDeps {
    return {
      send: (args, ms) => withDeadline(this.#db.sendCommand(args, { primary: true }), ms + CLIENT_TIMEOUT_GRACE_MS),
      // Reads go to the primary too: a replica may not have the constraint yet.
      query: (query, readOnly, ms) => this.#send(readOnly ? 'GRAPH.RO_QUERY' : 'GRAPH.QUERY', key, '', query, ms, { primary: true }).then((reply) => shapeReply(reply, { labels: [], relationshipTypes: [], propertyKeys: [] }, 100_000)),
    };
  }

  /**
   * The graph's label, type and property-key names, by id. A refresh (the reply named an
   * id the cached names lack) asks the primary: with read replicas, the lookup could
   * otherwise land on another replica, further behind than the one that answered the
   * query, and lack the id again. (Not with GRAPH.QUERY: on a graph deleted meanwhile,
   * it would create an empty one.)
   */
  async #schemaNames(key: string, refresh: boolean): Promise<GraphSchemaNames> {
    const cached = refresh ? undefined : this.#names.get(key);
    if (cached) return cached;
    const fetchColumn = async (procedure: string): Promise<string[]> => {
      const reply = await this.#db.sendCommand(['GRAPH.RO_QUERY', key, `CALL ${procedure}`, '--compact'], { primary: refresh }).catch((e: unknown) => {
        throw translate(e);
      });
      const rows = Array.isArray(reply) && Array.isArray(reply[1]) ? reply[1] : [];
      return rows.map((row) => String(Array.isArray(row) && Array.isArray(row[0]) ? row[0][1] : ''));
    };
    const [labels, relationshipTypes, propertyKeys] = await Promise.all([
      fetchColumn('db.labels()'),
      fetchColumn('db.relationshipTypes()'),
      fetchColumn('db.propertyKeys()'),
    ]);
    const names = { labels, relationshipTypes, propertyKeys };
    this.#names.set(key, names);
    return names;
  }
}

/** The graph operations tools use; GraphClient, or a wrapper that adds admission limits. */
export type GraphOperations = Pick<GraphClient, 'query' | 'explain' | 'listKeys' | 'deleteGraph' | 'schema' | 'createConstraint' | 'dropConstraint' | 'database'>;
