// An in-memory GraphOperations for unit tests of the tools: graphs are keys in a
// map, queries are recorded and answered by the test, and the failures follow
// GraphClient's contract (GRAPH_NOT_FOUND for a read of a missing graph, the
// read_only refusal for a write sent with GRAPH.RO_QUERY), made by the same
// translateQueryError from FalkorDB's own error texts. No database, no socket.

import { GatewayError } from '../../src/errors.js';
import type { Database } from '../../src/falkordb/database.js';
import type { ConstraintCreated, ConstraintSpec, GraphExplain, GraphQuery, GraphSchema } from '../../src/falkordb/graphs.js';
import { translateQueryError } from '../../src/falkordb/query-errors.js';
import type { ShapedReply } from '../../src/falkordb/shape.js';
import type { GraphOperations } from '../../src/falkordb/graphs.js';

/** What the test scripts a query to do: return a reply, or say it writes (then GRAPH.RO_QUERY refuses it). */
export type FakeAnswer = Partial<ShapedReply> & { writes?: boolean };

export const EMPTY_SCHEMA: GraphSchema = {
  labels: [],
  relationshipTypes: [],
  propertyKeys: [],
  indexes: [],
  constraints: [],
  sampling: { nodesPerLabel: 1000, relationshipsPerType: 1000, complete: true },
  indexDetails: [],
};

export class FakeGraphOps implements GraphOperations {
  /** Graph keys that exist, with their schema. */
  readonly graphs = new Map<string, GraphSchema>();
  /** Every query sent, in order. */
  readonly queries: GraphQuery[] = [];
  /** Every query planned (GRAPH.EXPLAIN), in order. */
  readonly explains: GraphExplain[] = [];
  /** Every key deleted (whether or not it existed), in order. */
  readonly deletes: string[] = [];
  /** Every constraint created or dropped, with the key, in order. */
  readonly constraintChanges: Array<{ action: 'create' | 'drop'; key: string; spec: ConstraintSpec }> = [];
  /** Every prefix listed, in order. */
  readonly listings: string[] = [];
  /** Answers each query; the default is an empty reply that writes nothing. */
  answer: (q: GraphQuery) => FakeAnswer | Promise<FakeAnswer> = () => ({});
  /** While false, ping and every operation fail as an unreachable database does. */
  reachable = true;
  readonly database: Database;

  constructor(keys: readonly string[] = []) {
    for (const key of keys) this.graphs.set(key, EMPTY_SCHEMA);
    this.database = {
      address: 'fake (in memory)',
      moduleVersion: '4.16.3',
      isReady: true,
      sendCommand: () => Promise.reject(new Error('FakeGraphOps answers graph operations only, not raw commands.')),
      ping: () => (this.reachable ? Promise.resolve(1) : Promise.reject(this.#unreachable())),
      close: () => Promise.resolve(),
    };
  }

  async query(q: GraphQuery): Promise<ShapedReply> {
    this.queries.push(q);
    this.#assertReachable();
    const { writes = false, ...reply } = await this.answer(q);
    if (q.readOnly && writes) throw translateQueryError(new Error('graph.RO_QUERY is to be executed only on read-only queries'), q.query);
    if (!this.graphs.has(q.key)) {
      if (q.readOnly) throw translateQueryError(new Error('Invalid graph operation on empty key'), q.query);
      // GRAPH.QUERY creates a missing graph, as FalkorDB does.
      this.graphs.set(q.key, EMPTY_SCHEMA);
    }
    return { columns: [], rows: [], rowCount: reply.rows?.length ?? 0, truncated: false, stats: {}, executionTimeMs: 0.1, ...reply };
  }

  /** The plan of any query on an existing graph is one `Results` line; a missing graph is refused as FalkorDB does. */
  explain(q: GraphExplain): Promise<string[]> {
    this.explains.push(q);
    this.#assertReachable();
    return this.graphs.has(q.key) ? Promise.resolve(['Results']) : Promise.reject(translateQueryError(new Error('Invalid graph operation on empty key'), q.query));
  }

  listKeys(prefix: string): Promise<string[]> {
    this.listings.push(prefix);
    this.#assertReachable();
    return Promise.resolve([...this.graphs.keys()].filter((key) => key.startsWith(prefix)));
  }

  deleteGraph(key: string): Promise<boolean> {
    this.deletes.push(key);
    this.#assertReachable();
    return Promise.resolve(this.graphs.delete(key));
  }

  schema(key: string): Promise<GraphSchema> {
    this.#assertReachable();
    const schema = this.graphs.get(key);
    return schema === undefined ? Promise.reject(translateQueryError(new Error('Invalid graph operation on empty key'))) : Promise.resolve(schema);
  }

  createConstraint(key: string, spec: ConstraintSpec): Promise<ConstraintCreated> {
    this.constraintChanges.push({ action: 'create', key, spec });
    this.#assertReachable();
    if (!this.graphs.has(key)) this.graphs.set(key, EMPTY_SCHEMA);
    return Promise.resolve({ created: true, indexCreated: spec.kind === 'unique', status: 'OPERATIONAL' });
  }

  dropConstraint(key: string, spec: ConstraintSpec): Promise<boolean> {
    this.constraintChanges.push({ action: 'drop', key, spec });
    this.#assertReachable();
    return this.graphs.has(key) ? Promise.resolve(true) : Promise.reject(translateQueryError(new Error('Invalid graph operation on empty key')));
  }

  #assertReachable(): void {
    if (!this.reachable) throw this.#unreachable();
  }

  #unreachable(): GatewayError {
    return new GatewayError('DATABASE_UNREACHABLE', 'The database is not reachable (FakeGraphOps.reachable is false).');
  }
}
