import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { queryChangedGraph } from './query-changed.js';
import { parseStats } from './shape.js';

const changed = (...lines: string[]) => queryChangedGraph(parseStats(lines).stats);

describe('queryChangedGraph', () => {
  it('is true for each kind of change FalkorDB reports', () => {
    for (const line of [
      'Labels added: 1',
      'Labels removed: 1',
      'Nodes created: 2',
      'Nodes deleted: 1',
      'Properties set: 3',
      'Properties removed: 1',
      'Relationships created: 1',
      'Relationships deleted: 1',
      'Indices created: 1',
      'Indices deleted: 1',
    ]) {
      assert.equal(changed(line, 'Cached execution: 0', 'Query internal execution time: 0.2 milliseconds'), true, line);
    }
  });

  it('is false for a read: only the run time and the cached-execution flag', () => {
    assert.equal(changed('Cached execution: 1', 'Query internal execution time: 0.1 milliseconds'), false);
    assert.equal(changed('Cached execution: 0', 'Query internal execution time: 12.5 milliseconds'), false);
    assert.equal(changed(), false);
  });

  it('is false when every count is zero', () => {
    assert.equal(changed('Indices created: 0', 'Query internal execution time: 0.3 milliseconds'), false);
  });

  it('counts a count of a kind it does not know as a change', () => {
    assert.equal(changed('Constraints created: 1'), true);
    assert.equal(queryChangedGraph({ somethingNew: 1 }), true);
  });
});
