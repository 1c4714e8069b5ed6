import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { indexSummaries, readGraphSchema, type SchemaQuery } from './graph-schema.js';
import type { JsonValue, ShapedReply } from './shape.js';

const reply = (rows: Array<Record<string, JsonValue>>): ShapedReply => ({ columns: Object.keys(rows[0] ?? {}), rows, rowCount: rows.length, truncated: false, stats: {}, executionTimeMs: 0 });
const names = (column: string, values: string[]) => reply(values.map((v) => ({ [column]: v })));

/** A graph of Person-[:KNOWS]->Person, answered by query text; `override` answers first. */
function fakeRun(override: (query: string) => ShapedReply | Error | undefined = () => undefined): { run: SchemaQuery; queries: string[] } {
  const queries: string[] = [];
  const run: SchemaQuery = (query) => {
    queries.push(query);
    const own = override(query);
    if (own instanceof Error) return Promise.reject(own);
    if (own !== undefined) return Promise.resolve(own);
    if (query === 'CALL db.labels()') return Promise.resolve(names('label', ['Person']));
    if (query === 'CALL db.relationshipTypes()') return Promise.resolve(names('relationshipType', ['KNOWS']));
    if (query === 'CALL db.propertyKeys()') return Promise.resolve(names('propertyKey', ['name', 'since']));
    if (query.startsWith('CALL db.indexes()') || query.startsWith('CALL db.constraints()')) return Promise.resolve(reply([]));
    if (query.startsWith('CALL db.meta.stats()')) return Promise.resolve(reply([{ labels: { Person: 5 }, relTypes: { KNOWS: 7 } }]));
    if (query.startsWith('MATCH (n:`Person`) WITH n LIMIT')) return Promise.resolve(names('k', ['name']));
    if (query.startsWith('MATCH (a)-[r:`KNOWS`]->(b) WITH')) return Promise.resolve(reply([{ from: ['Person'], to: ['Person'], keys: [['since'], []] }]));
    if (query === 'MATCH (n:`Person`) RETURN count(n)') return Promise.resolve(reply([{ 'count(n)': 3 }]));
    if (query === 'MATCH ()-[r:`KNOWS`]->() RETURN count(r)') return Promise.resolve(reply([{ 'count(r)': 4 }]));
    return Promise.reject(new Error(`unexpected query ${query}`));
  };
  return { run, queries };
}

describe('readGraphSchema', () => {
  it('takes exact counts from db.meta.stats, and property keys and endpoints from a sample', async () => {
    const schema = await readGraphSchema(fakeRun().run, 5000);
    assert.deepEqual(schema.labels, [{ name: 'Person', count: 5, properties: ['name'] }]);
    assert.deepEqual(schema.relationshipTypes, [{ name: 'KNOWS', count: 7, properties: ['since'], endpoints: [{ from: 'Person', to: 'Person' }] }]);
    assert.equal(schema.sampling.complete, true);
  });

  it('counts one label or type at a time where db.meta.stats is unknown', async () => {
    const { run, queries } = fakeRun((q) => (q.startsWith('CALL db.meta.stats()') ? new GatewayError('QUERY_FAILED', 'Procedure `db.meta.stats` is not registered') : undefined));
    const schema = await readGraphSchema(run, 5000);
    assert.equal(schema.labels[0]?.count, 3);
    assert.equal(schema.relationshipTypes[0]?.count, 4);
    assert.ok(queries.includes('MATCH (n:`Person`) RETURN count(n)'));
  });

  it('says the sample is incomplete when a sample query times out, and keeps the rest', async () => {
    const { run } = fakeRun((q) => (q.startsWith('MATCH (a)-[r:') ? new GatewayError('QUERY_TIMEOUT', 'Query timed out') : undefined));
    const schema = await readGraphSchema(run, 5000);
    assert.equal(schema.sampling.complete, false);
    assert.deepEqual(schema.relationshipTypes[0]?.properties, []);
    assert.deepEqual(schema.labels[0]?.properties, ['name']);
  });

  it('skips, as incomplete, a label Cypher cannot quote', async () => {
    const { run, queries } = fakeRun((q) => (q === 'CALL db.labels()' ? names('label', ['Per`son']) : undefined));
    const schema = await readGraphSchema(run, 5000);
    assert.equal(schema.sampling.complete, false);
    assert.ok(!queries.some((q) => q.includes('Per`son')));
  });

  it('passes on any other failure', async () => {
    const { run } = fakeRun((q) => (q === 'CALL db.indexes()' ? new GatewayError('DATABASE_UNREACHABLE', 'down') : undefined));
    await assert.rejects(readGraphSchema(run, 5000), { code: 'DATABASE_UNREACHABLE' });
  });
});

describe('indexSummaries', () => {
  it('writes one "Label.property kind" per property and kind, noting relationships and unfinished indexes', () => {
    const rows = [
      { label: 'Movie', types: { title: ['RANGE', 'FULLTEXT'] }, entitytype: 'NODE', status: 'OPERATIONAL' },
      { label: 'KNOWS', types: { since: ['RANGE'] }, entitytype: 'RELATIONSHIP', status: 'UNDER CONSTRUCTION' },
    ];
    assert.deepEqual(indexSummaries(rows), ['Movie.title range', 'Movie.title fulltext', 'KNOWS.since range (relationship, UNDER CONSTRUCTION)']);
  });
});
