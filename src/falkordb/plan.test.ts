import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planLines, planOperation, planWrites } from './plan.js';

describe('planLines', () => {
  it('keeps the lines of a plan with their indentation, and makes one line of an index change', () => {
    assert.deepEqual(planLines(['Results', '    Project', '        Node By Label Scan | (n:A)']), ['Results', '    Project', '        Node By Label Scan | (n:A)']);
    assert.deepEqual(planLines('Create Index'), ['Create Index']);
  });
});

describe('planOperation', () => {
  it('is the name of the operation without its details or indentation', () => {
    assert.equal(planOperation('        Node By Label Scan | (n:A)'), 'Node By Label Scan');
    assert.equal(planOperation('    Project'), 'Project');
  });
});

describe('planWrites', () => {
  it('is false for plans that only read', () => {
    assert.equal(planWrites(['Results', '    Project', '        Node By Label Scan | (n:A)'], 'MATCH (n:A) RETURN n'), false);
    assert.equal(planWrites(['Results', '    Project', '        Load CSV'], 'LOAD CSV FROM "x" AS r RETURN r'), false);
    assert.equal(planWrites(['Results', '    ProcedureCall'], 'CALL db.labels()'), false);
  });

  it('is true for plans that create, merge, delete or update', () => {
    assert.equal(planWrites(['Create', '    Unwind'], 'UNWIND [1] AS i CREATE (:B {i: i})'), true);
    assert.equal(planWrites(['Merge', '    Filter', '        Node By Label Scan | (n:A)', '    MergeCreate'], 'MERGE (n:A {x: 3})'), true);
    assert.equal(planWrites(['Delete', '    Node By Label Scan | (n:A)'], 'MATCH (n:A) DETACH DELETE n'), true);
    assert.equal(planWrites(['Results', '    Project', '        Update', '            Node By Label Scan | (n:A)'], 'MATCH (n:A) SET n.y = 2 RETURN n'), true);
  });

  it('is true for an update nested in a subquery or FOREACH', () => {
    assert.equal(planWrites(['Foreach', '    Node By Label Scan | (n:A)', '    Update', '        Unwind', '            Argument List'], 'MATCH (n:A) FOREACH (x IN [1] | SET n.q = x)'), true);
  });

  it('is true for index changes', () => {
    assert.equal(planWrites(['Create Index'], 'CREATE INDEX FOR (n:A) ON (n.x)'), true);
    assert.equal(planWrites(['Drop Index'], 'DROP INDEX FOR (n:A) ON (n.x)'), true);
  });

  it('is true for a call of a procedure FalkorDB does not list as read-only', () => {
    assert.equal(planWrites(['Results', '    ProcedureCall'], "CALL db.idx.fulltext.createNodeIndex('A', 'x')"), true);
  });

  it('is false for a label that only looks like an operation', () => {
    assert.equal(planWrites(['Results', '    Project', '        Node By Label Scan | (n:Create)'], 'MATCH (n:Create) RETURN n'), false);
  });
});
