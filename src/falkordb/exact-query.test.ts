// Where the exact-float columns go in a caller's query, and when the query is left alone.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EXACT_COLUMN, withExactFloats } from './exact-query.js';

/** The rewritten query with each added column's expression shown as `<items>`. */
function outline(query: string): string | undefined {
  return withExactFloats(query)?.query.replace(/\[__gw_c IN \[(.*?)\] \| .*? AS (__gw_exact\d*)/gs, '<$1> AS $2');
}

describe('exact-float columns', () => {
  it('go after the last item of the final RETURN, before ORDER BY, SKIP and LIMIT', () => {
    assert.equal(outline('RETURN toFloat(1) / 7'), 'RETURN toFloat(1) / 7, <toFloat(1) / 7> AS __gw_exact');
    assert.equal(outline('MATCH (n) RETURN DISTINCT n.x AS x, n ORDER BY x SKIP 1 LIMIT 2'), 'MATCH (n) RETURN DISTINCT n.x AS x, n, <n.x, n> AS __gw_exact ORDER BY x SKIP 1 LIMIT 2');
    assert.equal(withExactFloats('RETURN 1')?.addedColumns, 1);
  });

  it('leave comments, strings and brackets of the caller alone', () => {
    assert.equal(outline("RETURN 'RETURN, LIMIT' AS s, [1, 2] AS l // ORDER BY\n"), "RETURN 'RETURN, LIMIT' AS s, [1, 2] AS l, <'RETURN, LIMIT', [1, 2]> AS __gw_exact // ORDER BY\n");
    assert.equal(outline('MATCH (n) WITH n RETURN n.limit, $order'), 'MATCH (n) WITH n RETURN n.limit, $order, <n.limit, $order> AS __gw_exact');
    assert.equal(outline('CALL { RETURN 1 AS a } RETURN a'), 'CALL { RETURN 1 AS a } RETURN a, <a> AS __gw_exact');
  });

  it('go in every UNION branch, one per item when an item aggregates', () => {
    assert.equal(outline('RETURN 1 AS a UNION ALL RETURN 2 AS a'), 'RETURN 1 AS a, <1> AS __gw_exact UNION ALL RETURN 2 AS a, <2> AS __gw_exact');
    const perItem = withExactFloats('MATCH (n) RETURN n, count(*) AS c');
    assert.equal(perItem?.addedColumns, 2);
    assert.equal(outline('MATCH (n) RETURN n, count(*) AS c'), `MATCH (n) RETURN n, count(*) AS c, <n> AS ${EXACT_COLUMN}0, <count(*)> AS ${EXACT_COLUMN}1`);
  });

  it('are not added where the query has no final RETURN the rewrite can read', () => {
    for (const query of ['CREATE (n)', 'MATCH (n) RETURN *', 'RETURN 1; RETURN 2', 'RETURN (1', 'CALL db.labels()']) assert.equal(withExactFloats(query), undefined, query);
  });
});
