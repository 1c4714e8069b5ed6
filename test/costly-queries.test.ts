// One tenant's query must not cost the shared database more than its size suggests:
// queries whose parse blows up, and range() spans the database cannot bound, are
// refused by the gateway before they are sent, so the other tenants stay served.
// Each probe below costs seconds of a database thread when it is not refused.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { MAX_ACCUMULATOR_COPIES, MAX_GROWING_REDUCE_STEPS } from '../src/falkordb/accumulators.js';
import { MAX_BOUND_COPIES, MAX_NESTED_ITERATION_ELEMENTS } from '../src/falkordb/nested-iterations.js';
import { MAX_EXPRESSION_DEPTH, MAX_LIST_BOUND_RANGES, MAX_RANGE_ELEMENTS } from '../src/falkordb/query-complexity.js';
import { REALISTIC_QUERIES } from './fixtures/realistic-queries.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

/** The gateway's query time limit: a bystander's call not served within it fails with QUERY_TIMEOUT. */
const QUERY_TIMEOUT_MS = 4000;

let db: TestFalkorDB;
let gateway: RunningGateway;
let attacker: Client;
let attackerWriter: Client;
let bystander: Client;
const clients: Client[] = [];

async function clientOf(tenant: string, scope: string): Promise<Client> {
  const c = await connectClient('http', gateway.url, await signTestToken(tenant, { scope }));
  clients.push(c);
  return c;
}

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url, { QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) });
  attackerWriter = await clientOf('mallory', 'read write');
  attacker = await clientOf('mallory', 'read');
  bystander = await clientOf('bystander', 'read write');
  await mustCall(attackerWriter, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Seed {n: $n})', parameters: { n: MAX_RANGE_ELEMENTS + 1 } });
  await mustCall(bystander, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Seed)' });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await db?.cleanup();
});

const rep = (s: string, n: number): string => s.repeat(n);

/** Shapes that FalkorDB 4.16.3 parses in exponential time, at a depth that costs ~1-5 s unrefused. */
const BLOW_UPS: Array<[string, string]> = [
  ['nested parentheses', `RETURN ${rep('(', 19)}1${rep(')', 19)}`],
  ['nested lists', `RETURN ${rep('[', 18)}1${rep(']', 18)}`],
  ['nested maps', `RETURN ${rep('{a:', 18)}1${rep('}', 18)}`],
  ['a minus chain', `RETURN ${rep('-', 17)}1`],
  ['a plus chain', `RETURN ${rep('+', 17)}1`],
  ['a NOT chain', `RETURN ${rep('NOT ', 18)}true`],
  ['negated parentheses', `RETURN ${rep('-(', 10)}1${rep(')', 10)}`],
  ['NOT with parentheses', `RETURN ${rep('NOT (', 9)}true${rep(')', 9)}`],
  ['nested list comprehensions', `RETURN ${rep('[x IN ', 16)}[1]${rep(' | x]', 16)}`],
  ['nested CASE', `RETURN ${rep('CASE WHEN true THEN ', 18)}1${rep(' END', 18)}`],
  ['nested function calls', `RETURN ${rep('abs(', 18)}1${rep(')', 18)}`],
  ['many moderately nested expressions', `RETURN [${Array(100).fill(`${rep("(", 10)}1${rep(")", 10)}`).join(',')}]`],
];

async function assertTooComplex(client: Client, query: string, parameters?: Record<string, unknown>): Promise<string> {
  const out = await callTool(client, 'falkordb_query', { graphName: 'g', query, ...(parameters ? { parameters } : {}) });
  assert.equal(out.ok, false, `expected a refusal, got: ${out.text.slice(0, 200)}`);
  assert.equal(out.error?.code, 'QUERY_TOO_COMPLEX', out.text);
  return out.error!.message;
}

/** Sends `queries` at once from the attacker, checks the bystander's RETURN 1 is served meanwhile, and that each was refused. */
async function bystanderServedDuring(queries: ReadonlyArray<readonly [string, string, Record<string, unknown>?]>): Promise<void> {
  const attacks = queries.map(([, query, parameters]) => callTool(attacker, 'falkordb_query', { graphName: 'g', query, ...(parameters ? { parameters } : {}) }));
  const served = await mustCall(bystander, 'falkordb_query', { graphName: 'g', query: 'RETURN 1 AS one' });
  assert.deepEqual(served.rows, [{ one: 1 }]);
  const outcomes = await Promise.allSettled(attacks);
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'fulfilled' ? o.value.error?.code : String(o.reason))),
    queries.map(() => 'QUERY_TOO_COMPLEX'),
  );
}

describe('queries the database would parse for seconds', () => {
  for (const [name, query] of BLOW_UPS) {
    it(`refuses ${name} from a read-scoped token with QUERY_TOO_COMPLEX`, async () => {
      const message = await assertTooComplex(attacker, query);
      assert.match(message, /this gateway allows at most \d+/);
    });
  }

  it('names the depth found and the limit', async () => {
    const depth = MAX_EXPRESSION_DEPTH + 1;
    const message = await assertTooComplex(attacker, `RETURN ${rep('(', depth)}1${rep(')', depth)}`);
    assert.match(message, new RegExp(`nests expressions ${depth} levels deep .*this gateway allows at most ${MAX_EXPRESSION_DEPTH}\\b`));
  });

  it('keeps serving a bystander tenant while the attacker sends several at once', async () => {
    // Distinct texts, so the database's query cache cannot answer one probe from another's parse.
    const probes = [1, 2, 3, 4].map((i) => `RETURN ${rep('-(', 10)}${i}${rep(')', 10)}`);
    let pending = probes.length;
    const attacks = probes.map((query) =>
      callTool(attacker, 'falkordb_query', { graphName: 'g', query }).finally(() => {
        pending--;
      }),
    );
    // The bystander keeps calling until every probe has settled: unrefused, the probes hold
    // every database thread for longer than its time limit, and one of its calls times out.
    const served: boolean[] = [];
    while (served.length < 3 || pending > 0) {
      const out = await callTool(bystander, 'falkordb_query', { graphName: 'g', query: 'RETURN 1 AS one' });
      served.push(out.ok && (out.structured?.rows as unknown[] | undefined)?.length === 1);
      if (!served.at(-1)) break;
    }
    const outcomes = await Promise.all(attacks);
    assert.ok(served.every(Boolean), `a bystander call failed while the probes ran (${served.length} calls)`);
    assert.deepEqual(outcomes.map((o) => o.error?.code), probes.map(() => 'QUERY_TOO_COMPLEX'));
  });

  it('never sends a refused query to the database', async () => {
    const writer = attackerWriter;
    await assertTooComplex(writer, `CREATE (:Marker) WITH 1 AS x RETURN ${rep('(', MAX_EXPRESSION_DEPTH + 1)}x${rep(')', MAX_EXPRESSION_DEPTH + 1)}`);
    await assertTooComplex(writer, `CREATE (:Marker) WITH 1 AS x RETURN size(range(1, ${MAX_RANGE_ELEMENTS + 1})) AS n`);
    const count = await mustCall(writer, 'falkordb_query', { graphName: 'g', query: 'MATCH (m:Marker) RETURN count(m) AS n' });
    assert.deepEqual(count.rows, [{ n: 0 }]);
  });
});

describe('range() spans the database cannot bound', () => {
  it('refuses a literal span beyond the limit, naming the limit', async () => {
    const message = await assertTooComplex(attacker, `RETURN size(range(1, ${MAX_RANGE_ELEMENTS + 1})) AS n`);
    assert.match(message, new RegExp(`build ${MAX_RANGE_ELEMENTS + 1} elements; this gateway allows at most ${MAX_RANGE_ELEMENTS} per query`));
  });

  it('refuses a span whose bounds come from parameters', async () => {
    await assertTooComplex(attacker, 'UNWIND range($from, $to) AS i RETURN count(i) AS n', { from: 1, to: 2 * MAX_RANGE_ELEMENTS });
  });

  it('refuses a span computed from literals', async () => {
    await assertTooComplex(attacker, 'RETURN size(range(1, 5000 * 4000)) AS n');
  });

  // Each attack builds just over the limit if it reaches the database (~160 MB, under a second),
  // so this file stays safe to run against a gateway without the check; 5000000000 instead grows
  // the server past 10 GB.
  const over = MAX_RANGE_ELEMENTS + 1;
  const side = Math.ceil(Math.sqrt(over));
  const HIDDEN_SPANS: Array<[string, string, Record<string, unknown>?]> = [
    ['a bound from a variable', `WITH ${over} AS n RETURN size(range(1, n)) AS s`],
    ['a bound from a property', 'MATCH (x:Seed) RETURN size(range(1, x.n)) AS s'],
    ['a bound from a function result', `RETURN size(range(1, toInteger('${over}'))) AS s`],
    ['a backtick-quoted range', `RETURN size(\`range\`(1, toInteger('${over}'))) AS s`],
    ['a mixed-case RANGE with a missing parameter', 'RETURN size(RaNgE(1, $n)) AS s'],
    ['a bound converted from a string parameter', 'RETURN size(range(1, toInteger($n))) AS s', { n: String(over) }],
    ['a parameter that is not an integer', 'RETURN size(range(1, $n)) AS s', { n: String(over) }],
    ['a range inside a list comprehension', `RETURN size([x IN range(1, ${side}) | range(1, ${side})]) AS s`],
    ['a range inside reduce()', `RETURN reduce(acc = 0, x IN range(1, ${side}) | acc + size(range(1, ${side}))) AS s`],
    ['a range inside a quantifier', `RETURN any(x IN range(1, ${side}) WHERE size(range(1, ${side})) < 0) AS s`],
    ['a range after UNWIND of a range', `UNWIND range(1, ${side}) AS x WITH collect(range(1, ${side})) AS c RETURN size(c) AS s`],
    ['a range after UNWIND of a list of unknown length', `WITH [i IN range(1, 10) | i] AS xs UNWIND xs AS x WITH collect(range(1, ${Math.ceil(over / 10)})) AS c RETURN size(c) AS s`],
  ];
  for (const [name, query, parameters] of HIDDEN_SPANS) {
    it(`refuses ${name} from a read-scoped token, naming the limit`, async () => {
      const message = await assertTooComplex(attacker, query, parameters);
      assert.match(message, new RegExp(`at most ${MAX_RANGE_ELEMENTS} per query`));
    });
  }

  it('refuses a range inside FOREACH, multiplied by its list', async () => {
    await assertTooComplex(attackerWriter, `FOREACH (x IN range(1, ${side}) | CREATE (:Marker {n: size(range(1, ${side}))}))`);
  });

  it(`refuses more than ${MAX_LIST_BOUND_RANGES} range() calls bounded by size()`, async () => {
    const calls = Array.from({ length: MAX_LIST_BOUND_RANGES + 1 }, (_, i) => `size(range(0, size(xs) - 1)) AS s${i}`).join(', ');
    const message = await assertTooComplex(attacker, `WITH range(1, 1000) AS xs RETURN ${calls}`);
    assert.match(message, new RegExp(`at most ${MAX_LIST_BOUND_RANGES} per query`));
  });

  it("keeps serving another tenant's RETURN 1 while the attacker sends them, six at once", async () => {
    // Six at a time stays under the per-tenant concurrency cap of 8.
    for (let from = 0; from < HIDDEN_SPANS.length; from += 6) await bystanderServedDuring(HIDDEN_SPANS.slice(from, from + 6));
  });

  it('runs list-bound and iterated ranges within the limits', async () => {
    const out = await mustCall(attacker, 'falkordb_query', {
      graphName: 'g',
      query: 'WITH range(1, 5) AS xs RETURN size([x IN range(1, 1000) | range(1, 1000)]) AS n, [i IN range(0, size(xs) - 1) | xs[i] * 2] AS doubled',
    });
    assert.deepEqual(out.rows, [{ n: 1000, doubled: [2, 4, 6, 8, 10] }]);
  });

  it('runs a span at the limit', async () => {
    const out = await mustCall(attacker, 'falkordb_query', { graphName: 'g', query: `RETURN size(range(1, ${MAX_RANGE_ELEMENTS})) AS n` });
    assert.deepEqual(out.rows, [{ n: MAX_RANGE_ELEMENTS }]);
  });
});

describe('reduce() accumulators the database cannot bound', () => {
  // Each one just past its limit: were it sent, it would finish (the real attacks, 2^40 copies or
  // a million steps, hold a database thread for hours or take all its memory, whatever TIMEOUT says).
  const doublings = Math.log2(MAX_ACCUMULATOR_COPIES) + 1;
  const GROWING: Array<[string, string]> = [
    ['a list doubled each step', `RETURN size(reduce(acc = [1], i IN range(1, ${doublings}) | acc + acc)) AS n`],
    ['a string doubled each step', `RETURN size(reduce(s = 'x', i IN range(1, ${doublings}) | s + s)) AS n`],
    ['a list copied and grown each step', `RETURN size(reduce(acc = [], x IN range(1, ${MAX_GROWING_REDUCE_STEPS + 1}) | acc + [x])) AS n`],
    ['a number accumulator that becomes a list', `RETURN size(reduce(acc = 0, x IN range(1, ${MAX_GROWING_REDUCE_STEPS + 1}) | acc + [x])) AS n`],
    ['a string grown over a list of unknown length', "MATCH (s:Seed) WITH collect(toString(s.n)) AS xs RETURN size(reduce(t = '', x IN xs | t + x)) AS n"],
    ['a growing reduce() inside a list comprehension', 'RETURN size([i IN range(1, 10) | reduce(acc = [], x IN range(1, 10) | acc + [x])]) AS n'],
  ];
  for (const [name, query] of GROWING) {
    it(`refuses ${name} from a read-scoped token, naming the limit`, async () => {
      const message = await assertTooComplex(attacker, query);
      assert.match(message, /reduce\(\)/);
      assert.match(message, new RegExp(`at most ${MAX_GROWING_REDUCE_STEPS} elements`));
    });
  }

  it("keeps serving another tenant's RETURN 1 while the attacker sends them at once", async () => {
    await bystanderServedDuring(GROWING);
  });

  it('runs sums, maxima, string joins over a slice, and bounded growth', async () => {
    const out = await mustCall(attacker, 'falkordb_query', {
      graphName: 'g',
      query:
        "WITH ['a', 'b', 'c'] AS names RETURN reduce(t = 0, x IN range(1, 100000) | t + x) AS total, reduce(m = 0, x IN [3, 9, 4] | CASE WHEN x > m THEN x ELSE m END) AS top, " +
        "reduce(s = '', w IN names[0..2] | s + w) AS joined, size(reduce(acc = [1], i IN range(1, 10) | acc + acc)) AS doubled",
    });
    assert.deepEqual(out.rows, [{ total: 5000050000, top: 9, joined: 'ab', doubled: 1024 }]);
  });
});

describe('nested iterations the database cannot bound', () => {
  // Just past the limit, or over the few seed nodes: were they sent, they would finish.
  const side = Math.ceil(Math.sqrt(MAX_NESTED_ITERATION_ELEMENTS)) + 1;
  const NESTED: Array<[string, string]> = [
    ['a list comprehension over a bound range inside another', `WITH range(1, ${side}) AS a RETURN size([x IN a | [y IN a | 1]]) AS n`],
    ['a quantifier inside a list comprehension', `WITH range(1, ${side}) AS a RETURN size([x IN a | any(y IN a WHERE x = y)]) AS n`],
    ['comprehensions over a collected list', 'MATCH (s:Seed) WITH collect(s) AS ns RETURN size([x IN ns | [y IN ns | 1]]) AS n'],
    ['comprehensions over a property list', 'MATCH (s:Seed) RETURN size([x IN [s.n] | [y IN [s.n] | 1]]) AS n, [x IN keys(s) | [y IN labels(s) | y]] AS k'],
  ];
  it("keeps serving another tenant's RETURN 1 while the attacker sends them at once", async () => {
    await bystanderServedDuring(NESTED);
  });

  for (const [name, query] of NESTED) {
    it(`refuses ${name} from a read-scoped token, naming the limit`, async () => {
      const message = await assertTooComplex(attacker, query);
      assert.match(message, new RegExp(`at most ${MAX_NESTED_ITERATION_ELEMENTS} elements or steps`));
    });
  }

  it('refuses a list doubled over WITH steps past the copies limit, and runs one within it', async () => {
    const chain = (n: number): string => `WITH [1] AS a ${'WITH a + a AS a '.repeat(n)}RETURN size(a) AS n`;
    const doublings = Math.log2(MAX_BOUND_COPIES);
    const message = await assertTooComplex(attacker, chain(doublings + 1));
    assert.match(message, new RegExp(`at most ${MAX_BOUND_COPIES}\\)`));
    assert.deepEqual((await mustCall(attacker, 'falkordb_query', { graphName: 'g', query: chain(10) })).rows, [{ n: 1024 }]);
  });

  it('runs nested iterations over what the outer element holds, and within the limit', async () => {
    await mustCall(attackerWriter, 'falkordb_query', { graphName: 'g', query: "CREATE (:Box {items: [1, 2, 3]})-[:IN]->(:Box {items: [4]})" });
    const out = await mustCall(attacker, 'falkordb_query', {
      graphName: 'g',
      query: 'MATCH p = (:Box)-[:IN]->(:Box) WITH collect(p) AS paths RETURN [q IN paths | [n IN nodes(q) | size(n.items)]] AS sizes, size([x IN range(1, 1000) | [y IN range(1, 1000) | 1]]) AS square',
    });
    assert.deepEqual(out.rows, [{ sizes: [[3, 1]], square: 1000 }]);
  });
});

describe('realistic queries', () => {
  it('refuses none of the corpus (documentation examples, LDBC-style reads, GraphRAG retrieval)', async () => {
    const client = await clientOf('corpus', 'read write admin');
    await mustCall(client, 'falkordb_query', { graphName: 'corpus', query: 'CREATE (:Person {name: "Ann"})' });
    const refused: string[] = [];
    for (const { name, query, parameters } of REALISTIC_QUERIES) {
      const out = await callTool(client, 'falkordb_query', { graphName: 'corpus', query, ...(parameters ? { parameters } : {}) });
      // Other failures (a procedure or index this graph lacks) are the database's answer, not the guard's.
      if (out.error?.code === 'QUERY_TOO_COMPLEX') refused.push(name);
    }
    assert.deepEqual(refused, []);
  });
});
