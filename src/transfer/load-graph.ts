// Loads one graph of a transfer file into an empty graph key, batch by batch.
// Node ids are kept: a fresh graph hands out ids 0, 1, 2, … in creation order,
// so nodes are created in file order (each reply is checked to be sure), ids
// missing from the file are filled with placeholders deleted once every node
// exists, and relationships then name their endpoints by the exported ids, with
// no lookup table and no temporary property or label left in the schema.

import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../errors.js';
import type { Database } from '../falkordb/database.js';
import { parameterLiteral, quoteName, shapeKey, shapeOf, stringLiteral, valueExpression, type Shape } from './encode.js';
import type { ConstraintRecord, FileValue, IndexRecord, NodeRecord, RelationshipRecord, TransferRecord } from './format.js';
import { compactQuery, plainCell } from './server.js';

/** Records per load query, unless told otherwise. */
export const DEFAULT_LOAD_BATCH = 2000;
const MAX_BLANK_PER_QUERY = 100_000;
const SETTLE_TIMEOUT_MS = 10 * 60_000;

interface Numbered<T> {
  line: number;
  record: T;
}

/** Rows that share labels (or a type) and property keys with their shapes share one query. */
interface Group {
  text: string;
  rows: string[];
  lines: number[];
}

/** Plain values travel in one map per row (`SET x += r[0]`); typed ones each need their function. */
function splitProperties(properties: Record<string, FileValue>): { plain: string; special: Array<[string, Shape, FileValue]> } {
  const plain: string[] = [];
  const special: Array<[string, Shape, FileValue]> = [];
  for (const [key, value] of Object.entries(properties)) {
    const shape = shapeOf(value);
    if (shape === 'p') plain.push(`${quoteName(key)}: ${parameterLiteral(shape, value)}`);
    else special.push([key, shape, value]);
  }
  return { plain: `{${plain.join(', ')}}`, special };
}

function specialSignature(special: ReadonlyArray<[string, Shape, FileValue]>): Array<[string, string]> {
  return special.map(([k, s]) => [k, shapeKey(s)]);
}

function assignments(variable: string, special: ReadonlyArray<[string, Shape, FileValue]>, firstColumn: number): string {
  return [`${variable} += r[${firstColumn}]`, ...special.map(([key, shape], i) => `${variable}.${quoteName(key)} = ${valueExpression(shape, `r[${firstColumn + 1 + i}]`)}`)].join(', ');
}

function row(prefix: readonly string[], plain: string, special: ReadonlyArray<[string, Shape, FileValue]>): string {
  return `[${[...prefix, plain, ...special.map(([, shape, value]) => parameterLiteral(shape, value))].join(', ')}]`;
}

export class GraphLoader {
  readonly #db: Database;
  readonly #key: string;
  readonly #graph: string;
  readonly #batch: number;
  #nextId = 0;
  #nodes: Array<Numbered<NodeRecord>> = [];
  #relationships: Array<Numbered<RelationshipRecord>> = [];
  #placeholders: number[] = [];
  #nodesDone = false;
  readonly #indexes: IndexRecord[] = [];
  readonly #constraints: ConstraintRecord[] = [];

  constructor(db: Database, key: string, graph: string, batch: number) {
    this.#db = db;
    this.#key = key;
    this.#graph = graph;
    this.#batch = batch;
  }

  #step(what: string): string {
    return `Importing the ${what} of graph "${this.#graph}"`;
  }

  async #query(what: string, query: string, params = ''): Promise<ReturnType<typeof compactQuery>> {
    return compactQuery(this.#db, this.#key, query, { params, step: this.#step(what) });
  }

  /** Creates the (empty) graph key, so an export of an empty graph comes back as one. */
  async start(): Promise<void> {
    await this.#query('graph', 'RETURN 0');
  }

  async addNode(line: number, record: NodeRecord): Promise<void> {
    this.#nodes.push({ line, record });
    if (this.#nodes.length >= this.#batch) await this.#flushNodes();
  }

  async addRelationship(line: number, record: RelationshipRecord): Promise<void> {
    if (!this.#nodesDone) await this.#finishNodes();
    this.#relationships.push({ line, record });
    if (this.#relationships.length >= this.#batch) await this.#flushRelationships();
  }

  /** Takes one record inside the graph (node, relationship, index, constraint); others are not its to load. */
  async add(line: number, record: TransferRecord): Promise<void> {
    if (record.kind === 'node') await this.addNode(line, record);
    else if (record.kind === 'relationship') await this.addRelationship(line, record);
    else if (record.kind === 'index') this.addIndex(record);
    else if (record.kind === 'constraint') this.addConstraint(record);
  }

  addIndex(record: IndexRecord): void {
    this.#indexes.push(record);
  }

  addConstraint(record: ConstraintRecord): void {
    this.#constraints.push(record);
  }

  /** Checks that a query created exactly the ids `first`…`first + count - 1`, in order. */
  #checkIds(ids: unknown[], first: number, count: number): void {
    const ok = ids.length === count && ids.every((id, i) => id === first + i);
    if (!ok) throw new GatewayError('QUERY_FAILED', `${this.#step('nodes')} failed: the new graph did not hand out node ids ${first}–${first + count - 1} in order, so relationships could not be matched to their nodes.`);
  }

  async #createBlank(count: number): Promise<void> {
    for (let left = count; left > 0; left -= MAX_BLANK_PER_QUERY) {
      const n = Math.min(left, MAX_BLANK_PER_QUERY);
      const reply = await this.#query('nodes', 'UNWIND range(1, $count) AS i CREATE (n) RETURN min(id(n)), max(id(n)), count(n)', `CYPHER count=${n} `);
      const [min, max, created] = (reply.rows[0] ?? []).map(plainCell);
      if (min !== this.#nextId || max !== this.#nextId + n - 1 || created !== n) this.#checkIds([], this.#nextId, n);
      for (let id = this.#nextId; id < this.#nextId + n; id += 1) this.#placeholders.push(id);
      this.#nextId += n;
    }
  }

  /** Creates a run of nodes with the same labels and typed-property keys, in file order. */
  async #createRun(run: Array<Numbered<NodeRecord>>, labels: readonly string[], special: ReadonlyArray<[string, Shape, FileValue]>, rows: string[]): Promise<void> {
    const pattern = `(n${labels.map((l) => `:${quoteName(l)}`).join('')})`;
    const reply = await this.#query('nodes', `UNWIND $rows AS r CREATE ${pattern} SET ${assignments('n', special, 0)} RETURN id(n)`, `CYPHER rows=[${rows.join(', ')}] `);
    this.#checkIds(reply.rows.map((r) => plainCell(r[0])), this.#nextId, run.length);
    this.#nextId += run.length;
  }

  async #flushNodes(): Promise<void> {
    const nodes = this.#nodes;
    this.#nodes = [];
    let run: Array<Numbered<NodeRecord>> = [];
    let rows: string[] = [];
    let signature = '';
    let labels: readonly string[] = [];
    let special: ReadonlyArray<[string, Shape, FileValue]> = [];
    const flushRun = async () => {
      if (run.length > 0) await this.#createRun(run, labels, special, rows);
      run = [];
      rows = [];
    };
    for (const node of nodes) {
      const { record } = node;
      const parts = splitProperties(record.properties);
      const next = JSON.stringify([record.labels, specialSignature(parts.special)]);
      if (record.id > this.#nextId + run.length || next !== signature) {
        await flushRun();
        if (record.id > this.#nextId) await this.#createBlank(record.id - this.#nextId);
        signature = next;
        labels = record.labels;
        special = parts.special;
      }
      run.push(node);
      rows.push(row([], parts.plain, parts.special));
    }
    await flushRun();
  }

  async #finishNodes(): Promise<void> {
    await this.#flushNodes();
    this.#nodesDone = true;
    for (let i = 0; i < this.#placeholders.length; i += this.#batch) {
      const ids = this.#placeholders.slice(i, i + this.#batch);
      await this.#query('nodes', 'UNWIND $ids AS i WITH i MATCH (n) WHERE id(n) = i DELETE n', `CYPHER ids=[${ids.join(', ')}] `);
    }
    this.#placeholders = [];
  }

  async #flushRelationships(): Promise<void> {
    const relationships = this.#relationships;
    this.#relationships = [];
    const groups = new Map<string, Group>();
    for (const { line, record } of relationships) {
      const parts = splitProperties(record.properties);
      const signature = JSON.stringify([record.type, specialSignature(parts.special)]);
      let group = groups.get(signature);
      if (group === undefined) {
        group = {
          text: `UNWIND $rows AS r WITH r[0] AS s, r[1] AS t, r MATCH (a), (b) WHERE id(a) = s AND id(b) = t CREATE (a)-[e:${quoteName(record.type)}]->(b) SET ${assignments('e', parts.special, 2)} RETURN count(e)`,
          rows: [],
          lines: [],
        };
        groups.set(signature, group);
      }
      group.rows.push(row([String(record.from), String(record.to)], parts.plain, parts.special));
      group.lines.push(line);
    }
    for (const group of groups.values()) {
      const reply = await this.#query('relationships', group.text, `CYPHER rows=[${group.rows.join(', ')}] `);
      const created = Number(plainCell(reply.rows[0]?.[0]));
      if (created !== group.rows.length) {
        throw new GatewayError('TRANSFER_FILE_INVALID', `${group.rows.length - created} relationship(s) on lines ${group.lines[0]}–${group.lines.at(-1)} of graph "${this.#graph}" connect a node id the file has no node for; nothing was imported.`);
      }
    }
  }

  async #createIndex(index: IndexRecord): Promise<void> {
    const pattern = index.entity === 'node' ? `(x:${quoteName(index.label)})` : `()-[x:${quoteName(index.label)}]-()`;
    const on = `ON (x.${quoteName(index.property)})`;
    if (index.indexType === 'range') return void (await this.#query('indexes', `CREATE INDEX FOR ${pattern} ${on}`));
    if (index.indexType === 'fulltext') {
      const stopwords = index.stopwords ?? [];
      const params = `CYPHER language=${stringLiteral(index.language ?? 'english')} stopwords=[${stopwords.map(stringLiteral).join(', ')}] `;
      const options = `{language: $language${stopwords.length === 0 ? '' : ', stopwords: $stopwords'}}`;
      return void (await this.#query('indexes', `CREATE FULLTEXT INDEX FOR ${pattern} ${on} OPTIONS ${options}`, params));
    }
    const vector = index.vector;
    if (vector === undefined) return;
    const entries = Object.entries(vector).filter(([, v]) => v !== undefined);
    const params = `CYPHER ${entries.map(([k, v]) => `${k}=${typeof v === 'string' ? stringLiteral(v) : String(v)}`).join(' ')} `;
    await this.#query('indexes', `CREATE VECTOR INDEX FOR ${pattern} ${on} OPTIONS {${entries.map(([k]) => `${k}: $${k}`).join(', ')}}`, params);
  }

  async #createConstraint(c: ConstraintRecord): Promise<void> {
    const args = ['GRAPH.CONSTRAINT', 'CREATE', this.#key, c.constraint.toUpperCase(), c.entity === 'node' ? 'NODE' : 'RELATIONSHIP', c.label, 'PROPERTIES', String(c.properties.length), ...c.properties];
    try {
      await this.#db.sendCommand(args);
    } catch (error) {
      throw new GatewayError('QUERY_FAILED', `${this.#step('constraints')} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Waits until every index and constraint is built; a constraint the data breaks fails the import. */
  async #settle(): Promise<void> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const indexes = await this.#query('indexes', 'CALL db.indexes() YIELD status RETURN status');
      const constraints = await this.#query('constraints', 'CALL db.constraints() YIELD type, label, properties, status RETURN type, label, properties, status');
      const failed = constraints.rows.map((row) => row.map(plainCell)).find((row) => row[3] === 'FAILED');
      if (failed !== undefined) {
        throw new GatewayError('QUERY_FAILED', `${this.#step('constraints')} failed: the data breaks the ${String(failed[0]).toLowerCase()} constraint on ${String(failed[1])}(${(failed[2] as string[]).join(', ')}).`);
      }
      const pending = [...indexes.rows.map((r) => plainCell(r[0])), ...constraints.rows.map((r) => plainCell(r[3]))].some((s) => s !== 'OPERATIONAL');
      if (!pending) return;
      if (Date.now() > deadline) throw new GatewayError('QUERY_TIMEOUT', `${this.#step('indexes')} timed out: indexes or constraints were still being built after ${SETTLE_TIMEOUT_MS / 60_000} minutes.`);
      await sleep(50);
    }
  }

  /** Loads what is still buffered, builds indexes and constraints, and checks the counts against the file. */
  async finish(expected: { nodes: number; relationships: number }): Promise<void> {
    if (!this.#nodesDone) await this.#finishNodes();
    await this.#flushRelationships();
    for (const index of this.#indexes) await this.#createIndex(index);
    for (const constraint of this.#constraints) await this.#createConstraint(constraint);
    await this.#settle();
    const nodes = Number(plainCell((await this.#query('nodes', 'MATCH (n) RETURN count(n)')).rows[0]?.[0]));
    const relationships = Number(plainCell((await this.#query('relationships', 'MATCH ()-[e]->() RETURN count(e)')).rows[0]?.[0]));
    if (nodes !== expected.nodes || relationships !== expected.relationships) {
      throw new GatewayError('QUERY_FAILED', `${this.#step('graph')} failed: it holds ${nodes} nodes and ${relationships} relationships where the file has ${expected.nodes} and ${expected.relationships}.`);
    }
  }
}
