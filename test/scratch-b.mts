import { assertQueryNotTooComplex } from '../src/falkordb/query-complexity.js';
import { REALISTIC_QUERIES } from './fixtures/realistic-queries.js';
const qs = REALISTIC_QUERIES.map((q) => [q.query, (q as { parameters?: Record<string, unknown> }).parameters] as const);
for (let i = 0; i < 2000; i++) for (const [q, p] of qs) assertQueryNotTooComplex(q, p);
const n = 20000; const t = process.hrtime.bigint();
for (let i = 0; i < n; i++) assertQueryNotTooComplex(...qs[i % qs.length]!);
const per = Number(process.hrtime.bigint() - t) / n / 1000;
const avgLen = qs.reduce((s, [q]) => s + q.length, 0) / qs.length;
console.log(`${qs.length} corpus queries, mean ${avgLen.toFixed(0)} chars: ${per.toFixed(1)} µs per check`);
