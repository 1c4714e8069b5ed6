import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStats, shapeReply, shapeValue } from './shape.js';

const names = { labels: ['Person'], relationshipTypes: ['KNOWS'], propertyKeys: ['name', 'age'] };

describe('compact reply shaping', () => {
  it('keeps integers beyond 2^53 exact, as strings', () => {
    assert.equal(shapeValue(['3', '9007199254740993'], names), '9007199254740993');
    assert.equal(shapeValue(['3', '-5'], names), -5);
  });
  it('shapes nodes, relationships and paths with names', () => {
    const node = ['8', ['0', ['0'], [['0', '2', 'Ann'], ['1', '3', '42']]]];
    const edge = ['7', ['3', '0', '0', '1', []]];
    assert.deepEqual(shapeValue(node, names), { id: 0, labels: ['Person'], properties: { name: 'Ann', age: 42 } });
    assert.deepEqual(shapeValue(edge, names), { id: 3, type: 'KNOWS', startId: 0, endId: 1, properties: {} });
    const path = ['9', [['6', [node]], ['6', [edge]]]];
    assert.deepEqual(shapeValue(path, names), { nodes: [shapeValue(node, names)], relationships: [shapeValue(edge, names)] });
  });
  it('shapes temporal values as ISO strings', () => {
    assert.equal(shapeValue(['14', '1704153600'], names), '2024-01-02');
    assert.equal(shapeValue(['13', '1704164645'], names), '2024-01-02T03:04:05.000Z');
    assert.equal(shapeValue(['15', '-2208952128'], names), '10:11:12');
    assert.equal(shapeValue(['16', '93600'], names), 'P1DT2H');
    assert.equal(shapeValue(['16', '0'], names), 'PT0S');
  });
  it('shapes maps, lists, points, booleans and doubles', () => {
    assert.deepEqual(shapeValue(['10', ['a', ['3', '1'], 'b', ['6', [['4', 'true'], ['5', '1.5']]]]], names), { a: 1, b: [true, 1.5] });
    assert.deepEqual(shapeValue(['11', ['1', '2']], names), { latitude: 1, longitude: 2 });
  });
  it('caps rows and says so', () => {
    const reply = [[['1', 'x']], [[['3', '1']], [['3', '2']], [['3', '3']]], ['Query internal execution time: 0.5 milliseconds']];
    const shaped = shapeReply(reply, names, 2);
    assert.deepEqual(shaped.rows, [{ x: 1 }, { x: 2 }]);
    assert.equal(shaped.truncated, true);
    assert.equal(shaped.rowCount, 2);
    assert.equal(shaped.executionTimeMs, 0.5);
  });
  it('reads write statistics', () => {
    assert.deepEqual(parseStats(['Nodes created: 2', 'Properties set: 1', 'Cached execution: 0']).stats, { nodesCreated: 2, propertiesSet: 1, cachedExecution: false });
  });
});
