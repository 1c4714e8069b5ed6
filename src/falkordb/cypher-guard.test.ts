import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertQueryAllowed, containsLoadCsv } from './cypher-guard.js';

describe('LOAD CSV guard', () => {
  const refused = [
    "LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r",
    "load csv from 'file://x.csv' AS r RETURN r",
    "LOAD/**/CSV FROM 'file://x.csv' AS r RETURN r",
    "LOAD /* a comment */ CSV FROM 'file://x.csv' AS r RETURN r",
    "LOAD // comment\nCSV FROM 'x' AS r RETURN r",
    "WITH '//' AS x LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r",
    "WITH '/*' AS x LOAD CSV FROM 'x' AS r RETURN r //*/",
    "LOAD\tCSV WITH HEADERS FROM 'https://example.com/a.csv' AS r RETURN r",
  ];
  for (const query of refused) {
    it(`refuses ${JSON.stringify(query)}`, () => {
      assert.equal(containsLoadCsv(query), true);
      assert.throws(() => assertQueryAllowed(query, { allowLoadCsv: false }), { code: 'QUERY_FORBIDDEN' });
    });
  }
  it('lets ordinary queries through', () => {
    for (const q of ['MATCH (n:Load) RETURN n.csv', 'RETURN 1', 'CREATE (:Download {csvFile: 1})']) {
      assert.equal(containsLoadCsv(q), false, q);
    }
  });
  it('allows LOAD CSV when the operator turned it on', () => {
    assert.doesNotThrow(() => assertQueryAllowed("LOAD CSV FROM 'file://x.csv' AS r RETURN r", { allowLoadCsv: true }));
  });
});
