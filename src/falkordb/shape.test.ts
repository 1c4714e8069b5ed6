import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStats, replyHasInexactDoubles, shapeReply, shapeValue } from './shape.js';

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
  it('shapes temporal values as ISO strings, local ones without a zone', () => {
    assert.equal(shapeValue(['14', '1704153600'], names), '2024-01-02');
    assert.equal(shapeValue(['14', '-62009366400'], names), '0005-01-01');
    assert.equal(shapeValue(['13', '1704164645'], names), '2024-01-02T03:04:05');
    assert.equal(shapeValue(['15', '-2208952128'], names), '10:11:12');
    assert.equal(shapeValue(['16', '93600'], names), 'P1DT2H');
    assert.equal(shapeValue(['16', '36907506'], names), 'P1Y2M3DT4H5M6S');
    assert.equal(shapeValue(['16', '0'], names), 'PT0S');
  });
  it('shapes maps, lists, points, booleans and doubles', () => {
    assert.deepEqual(shapeValue(['10', ['a', ['3', '1'], 'b', ['6', [['4', 'true'], ['5', '1.5']]]]], names), { a: 1, b: [true, 1.5] });
    assert.deepEqual(shapeValue(['11', ['1', '2']], names), { latitude: 1, longitude: 2 });
    assert.deepEqual(shapeValue(['11', ['1.10000002384186', '2']], names), { latitude: Math.fround(1.1), longitude: 2 });
  });
  it('names NaN, the infinities and -0 as the export does', () => {
    assert.deepEqual(shapeValue(['5', '-nan'], names), { $float: 'NaN' });
    assert.deepEqual(shapeValue(['5', 'inf'], names), { $float: 'Infinity' });
    assert.deepEqual(shapeValue(['5', '-inf'], names), { $float: '-Infinity' });
    assert.deepEqual(shapeValue(['5', '-0'], names), { $float: '-0' });
  });
  it('rebuilds doubles from their split where the exact-float column gives one, and keeps the print elsewhere', () => {
    const split = ['0', '0.142857141792774', '1.06436864877324e-9'];
    assert.ok(Object.is(shapeValue(['5', '0.142857142857143'], names, [split]), 1 / 7));
    assert.equal(shapeValue(['5', '0.142857142857143'], names), 0.142857142857143);
    // A split that disagrees with the print (rand() evaluated twice) is not used.
    assert.equal(shapeValue(['5', '0.5'], names, [['0', '0.25', '0']]), 0.5);
    const node = ['8', ['0', ['0'], [['1', '5', '0.142857142857143']]]];
    const path = ['9', [['6', [node, node]], ['6', [['7', ['3', '0', '0', '0', [['1', '5', '0.142857142857143']]]]]]]];
    const info = [[['0', [[['age', [split]]]]], ['2', [[['age', [split]]]]]]];
    const shaped = shapeValue(path, names, info) as { nodes: Array<{ properties: { age: number } }>; relationships: Array<{ properties: { age: number } }> };
    assert.ok(Object.is(shaped.nodes[0]?.properties.age, 1 / 7));
    assert.equal(shaped.nodes[1]?.properties.age, 0.142857142857143);
    assert.ok(Object.is(shaped.relationships[0]?.properties.age, 1 / 7));
  });
  it('reads the added exact-float columns and leaves them out of the rows', () => {
    const split = ['6', [['3', '0'], ['5', '0.142857141792774'], ['5', '1.06436864877324e-9']]];
    const info = ['6', [['6', [split]]]];
    const reply = [[['1', 'x'], ['1', '__gw_exact']], [[['5', '0.142857142857143'], info]], []];
    const shaped = shapeReply(reply, names, 10, 1);
    assert.deepEqual(shaped.columns, ['x']);
    assert.ok(Object.is(shaped.rows[0]?.x, 1 / 7));
  });
  it('asks for exact floats only when a reply holds a double its print may not carry', () => {
    const reply = (cell: unknown) => [[['1', 'x']], [[cell]], []] as never;
    assert.equal(replyHasInexactDoubles(reply(['3', '1'])), false);
    assert.equal(replyHasInexactDoubles(reply(['5', '0'])), false);
    assert.equal(replyHasInexactDoubles(reply(['5', '-nan'])), false);
    assert.equal(replyHasInexactDoubles(reply(['5', '0.5'])), true);
    assert.equal(replyHasInexactDoubles(reply(['8', ['0', ['0'], [['1', '5', '0.5']]]])), true);
    assert.equal(replyHasInexactDoubles(reply(['6', [['10', ['a', ['5', '2.5']]]]])), true);
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
