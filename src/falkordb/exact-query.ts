// Makes a caller's query return its floats exactly: the final RETURN (each
// one, with UNION) gets a column more, EXACT_COLUMN, holding the split of every
// float its values contain (exact-floats.ts), which the shaping reads and then
// drops. The text is only added to, after the final RETURN's last item, so the
// caller's columns, rows and order stay as they were. A query this reading does
// not understand (RETURN *, a `;`, no final RETURN) is not rewritten: its floats
// keep FalkorDB's 15 digits.

import { splitExpression } from './exact-floats.js';

/** The name of the added column (numbered when there is one per item). */
export const EXACT_COLUMN = '__gw_exact';

/** How deep inside a value a float still comes back exactly: the value itself is depth 0, a list element or a property 1, and so on. */
export const EXACT_DEPTH = 2;

const NESTING = "['Float', 'List', 'Map', 'Node', 'Edge', 'Path']";

/**
 * Cypher for what the shaping knows of the floats in `v` (a variable or an
 * expression cheap to repeat), as a list whose first element is: for a float its
 * split; for a list or a path (its nodes, then its relationships)
 * `[[index, info]…]`; for a map, node or relationship `[[key, info]…]`, both
 * for the children that can hold a float. Lists filtered by type stand in for
 * CASE, whose every branch FalkorDB evaluates, so nothing is computed for a
 * value of another type; each level recurses once, as FalkorDB's planning time
 * grows steeply with the size of an expression.
 */
export function floatInfoExpression(v: string, depth = EXACT_DEPTH): string {
  const [f, l, m, k, e, i, p] = ['f', 'l', 'm', 'k', 'e', 'i', 'p'].map((name) => `__gw_${name}${depth}`) as [string, string, string, string, string, string, string];
  const float = `[${f} IN [${v}] WHERE typeOf(${f}) = 'Float' | ${splitExpression(f, `__gw_w${depth}`)}]`;
  if (depth === 0) return float;
  // One list of [index or key, child] for a list, a path, a map or an entity, so each level recurses once.
  const elements = `([${l} IN [${v}] WHERE typeOf(${l}) = 'List' | ${l}] + [${l} IN [${v}] WHERE typeOf(${l}) = 'Path' | nodes(${l}) + relationships(${l})] + [[]])[0]`;
  const indexed = `[${e} IN [${elements}] | [${i} IN range(0, size(${e}) - 1) | [${i}, ${e}[${i}]]]][0]`;
  const keyed = `([${m} IN [${v}] WHERE typeOf(${m}) IN ['Map', 'Node', 'Edge'] | [${k} IN keys(${m}) | [${k}, ${m}[${k}]]]] + [[]])[0]`;
  const children = `[${p} IN ${indexed} + ${keyed} WHERE typeOf(${p}[1]) IN ${NESTING} | [${p}[0], ${floatInfoExpression(`${p}[1]`, depth - 1)}]]`;
  return `${float} + [${children}]`;
}

interface Word {
  upper: string;
  start: number;
  /** Preceded by `.`, `:` or `$`: a property, label or parameter name, never a keyword. */
  qualified: boolean;
}

interface Outline {
  /** Words outside brackets, strings and comments. */
  words: Word[];
  /** Positions of `,` outside brackets. */
  commas: number[];
  /** Where the significant text (not whitespace, not a comment) ending at or before each position ends. */
  significantEnd: Int32Array;
  semicolon: boolean;
  balanced: boolean;
}

/** One pass over the text: what lies outside brackets, strings and comments. */
function outline(text: string): Outline {
  const words: Word[] = [];
  const commas: number[] = [];
  const significantEnd = new Int32Array(text.length + 1);
  let depth = 0;
  let semicolon = false;
  let last = 0;
  let lastChar = '';
  let i = 0;
  const mark = (from: number, to: number) => {
    for (let p = from; p <= to; p++) significantEnd[p] = last;
  };
  while (i < text.length) {
    const ch = text[i] as string;
    const next = text[i + 1];
    let end = i + 1;
    let significant = true;
    if (ch === '/' && next === '/') {
      const nl = text.indexOf('\n', i);
      end = nl === -1 ? text.length : nl;
      significant = false;
    } else if (ch === '/' && next === '*') {
      const close = text.indexOf('*/', i + 2);
      end = close === -1 ? text.length : close + 2;
      significant = false;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== ch) j += text[j] === '\\' && ch !== '`' ? 2 : 1;
      end = Math.min(j + 1, text.length);
    } else if (/\s/.test(ch)) {
      significant = false;
    } else if (/[A-Za-z_]/.test(ch)) {
      while (end < text.length && /[A-Za-z0-9_]/.test(text[end] as string)) end++;
      if (depth === 0) words.push({ upper: text.slice(i, end).toUpperCase(), start: i, qualified: lastChar === '.' || lastChar === ':' || lastChar === '$' });
    } else if (/[0-9]/.test(ch)) {
      while (end < text.length && /[A-Za-z0-9_.]/.test(text[end] as string)) end++;
    } else if (ch === '(' || ch === '[' || ch === '{') {
      depth++;
    } else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth < 0) break;
    } else if (ch === ',' && depth === 0) {
      commas.push(i);
    } else if (ch === ';') {
      semicolon = true;
    }
    mark(i, end - 1);
    if (significant) {
      last = end;
      lastChar = text[end - 1] as string;
    }
    i = end;
  }
  mark(i, text.length);
  return { words, commas, significantEnd, semicolon, balanced: depth === 0 };
}

const KEYWORD = (w: Word, ...names: string[]) => !w.qualified && names.includes(w.upper);

// FalkorDB reads an expression that mixes an aggregate with grouping keys
// wrongly (in `[x IN [p, count(b)] | …]` the path p reads as null), so when an
// item aggregates, each item gets an exact-float column of its own.
const AGGREGATE = /\b(count|sum|avg|min|max|collect|percentileDisc|percentileCont|stDev|stDevP)\s*\(/i;

/** A rewritten query and how many columns it adds after the caller's. */
export interface ExactQuery {
  query: string;
  addedColumns: number;
}

/**
 * `query` with exact-float columns added to its final RETURN (to each, with
 * UNION), or undefined when the query's shape is not one this understands.
 * Each row's added cells, read untyped and concatenated, give one float info
 * per column of the caller's (floatInfoExpression).
 */
export function withExactFloats(query: string): ExactQuery | undefined {
  const o = outline(query);
  if (!o.balanced || o.semicolon) return undefined;
  const unions = o.words.filter((w) => KEYWORD(w, 'UNION')).map((w) => w.start);
  const bounds = [0, ...unions, query.length];
  const branches: Array<{ at: number; items: string[] }> = [];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const [from, to] = [bounds[b] as number, bounds[b + 1] as number];
    const inBranch = o.words.filter((w) => w.start >= from && w.start < to);
    const returns = inBranch.filter((w) => KEYWORD(w, 'RETURN'));
    const ret = returns[returns.length - 1];
    if (ret === undefined) return undefined;
    const after = inBranch.filter((w) => w.start > ret.start);
    let itemsFrom = ret.start + ret.upper.length;
    if (after[0] !== undefined && KEYWORD(after[0], 'DISTINCT')) itemsFrom = after[0].start + after[0].upper.length;
    const tail = after.find((w) => KEYWORD(w, 'ORDER', 'SKIP', 'LIMIT'));
    const itemsTo = tail?.start ?? to;
    const cuts = [itemsFrom - 1, ...o.commas.filter((c) => c > itemsFrom && c < itemsTo), itemsTo];
    const items: string[] = [];
    for (let c = 0; c + 1 < cuts.length; c++) {
      const [start, stop] = [(cuts[c] as number) + 1, cuts[c + 1] as number];
      const alias = after.filter((w) => w.start >= start && w.start < stop && KEYWORD(w, 'AS')).pop();
      const end = o.significantEnd[alias?.start ?? stop] as number;
      const item = query.slice(start, Math.max(start, end)).trim();
      if (item === '' || item === '*') return undefined;
      items.push(item);
    }
    branches.push({ at: o.significantEnd[itemsTo] as number, items });
  }
  const perItem = branches.some((branch) => branch.items.some((item) => AGGREGATE.test(item)));
  const info = floatInfoExpression('__gw_c');
  const columns = (items: string[]) =>
    perItem ? items.map((item, i) => `, [__gw_c IN [${item}] | ${info}] AS ${EXACT_COLUMN}${i}`).join('') : `, [__gw_c IN [${items.join(', ')}] | ${info}] AS ${EXACT_COLUMN}`;
  let out = query;
  for (const { at, items } of [...branches].reverse()) out = out.slice(0, at) + columns(items) + out.slice(at);
  return { query: out, addedColumns: perItem ? (branches[0]?.items.length ?? 0) : 1 };
}
