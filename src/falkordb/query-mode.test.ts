import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { queryMayWrite, queryOnlyRemoves } from './query-mode.js';

describe('queryMayWrite', () => {
  it('is false for reads', () => {
    for (const query of [
      'MATCH (n) RETURN n',
      'MATCH (n) WHERE n.created > 1 RETURN n.set AS x, $create AS y',
      "MATCH (n:Set {merge: 'DELETE'}) RETURN {create: 1} AS m",
      'MATCH (n) RETURN n // SET n.x = 1',
      'MATCH (n) /* DETACH DELETE n */ RETURN `create`',
      'CALL db.labels() YIELD label RETURN label',
      'CALL db.idx.fulltext.queryNodes("L", "x") YIELD node RETURN node',
      'UNWIND range(1, 3) AS x RETURN x',
    ]) {
      assert.equal(queryMayWrite(query), false, query);
    }
  });

  it('is true for writes and for procedures that may write', () => {
    for (const query of [
      'CREATE (:A)',
      'match (n) set n.x = 1',
      'MATCH (n) DETACH DELETE n',
      'MERGE (a:A {id: 1})',
      'MATCH (n) REMOVE n.x',
      'DROP INDEX ON :A(x)',
      'CREATE INDEX FOR (a:A) ON (a.x)',
      "CALL db.idx.fulltext.createNodeIndex('A', 'name')",
      'CALL some.unknown()',
      'MATCH (n) CALL { WITH n SET n.x = 1 } RETURN n',
      'UNWIND $rows AS r FOREACH (x IN r | CREATE (:B))',
    ]) {
      assert.equal(queryMayWrite(query), true, query);
    }
  });
});

describe('queryOnlyRemoves', () => {
  it('is true for writes that only delete or remove', () => {
    for (const query of [
      'MATCH (n) DELETE n',
      'MATCH (n:Old) DETACH DELETE n',
      'MATCH ()-[r:KNOWS]->() DELETE r',
      'MATCH (n) REMOVE n.x, n:Label',
      'DROP INDEX ON :A(x)',
      'MATCH (n) WITH n LIMIT 1000 DELETE n RETURN count(n) AS gone',
      "MATCH (n {name: 'CREATE'}) DELETE n",
      'MATCH (n) WHERE n.set = 1 DELETE n',
    ]) {
      assert.equal(queryOnlyRemoves(query), true, query);
    }
  });

  it('is false for reads and for anything that may add data', () => {
    for (const query of [
      'MATCH (n) RETURN n',
      'CREATE (:A)',
      'MATCH (n) DELETE n CREATE (:B)',
      'MATCH (n) SET n.x = 1',
      'MERGE (a:A {id: 1}) WITH a MATCH (b) DELETE b',
      'CREATE INDEX FOR (a:A) ON (a.x)',
      "CALL db.idx.fulltext.createNodeIndex('A', 'name')",
      'MATCH (n) DELETE n WITH 1 AS x CALL some.unknown()',
      'UNWIND $rows AS r FOREACH (x IN r | CREATE (:B))',
    ]) {
      assert.equal(queryOnlyRemoves(query), false, query);
    }
  });
});
