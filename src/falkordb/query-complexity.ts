// Refuses queries that would cost the shared database far more than their size
// suggests, before they are sent. FalkorDB 4.16's parser takes time exponential in
// how deeply expressions nest, and neither its TIMEOUT nor the gateway's slot release
// stops a parse once it has started; range() is bounded by neither TIMEOUT nor
// QUERY_MEM_CAPACITY. Figures behind each limit: docs/security.md, "Noisy neighbours".

import { GatewayError } from '../errors.js';
import { tokenizeCypher, type CypherToken } from './cypher-tokens.js';
import { MAX_ACCUMULATOR_COPIES, MAX_GROWING_REDUCE_STEPS, growingAccumulator } from './accumulators.js';
import { MAX_BOUND_COPIES, MAX_NESTED_ITERATION_ELEMENTS, repeatedCopies, unboundedNesting } from './nested-iterations.js';
import { measureRangeElements, type RangeElements } from './range-elements.js';

/** Deepest expression nesting allowed: 12 levels parse in ~0.1 s; each level more doubles that. */
export const MAX_EXPRESSION_DEPTH = 12;
/**
 * Parse-cost budget: every token weighs 2^(its depth). Measured at 0.5 to 2.7 µs per unit
 * depending on the shape, so the budget parses in under ~0.7 s; a 100 KB query of flat
 * literal data (depth 3) weighs about 205,000.
 */
export const MAX_PARSE_COST = 250_000;
/** Most elements the range() calls of one query may build (~16 bytes each), each counted once per element iterated around it. */
export const MAX_RANGE_ELEMENTS = 10_000_000;
/**
 * Most range() calls per query bounded by size(…) or length(…), as in range(0, size(xs) - 1):
 * each copies a list the query already holds, which other limits bound (the request size for
 * parameters, the tenant's storage for properties, MAX_RANGE_ELEMENTS for ranges). Real queries
 * use one or two; four keeps such copies within a few times the list.
 */
export const MAX_LIST_BOUND_RANGES = 4;

export interface QueryComplexity {
  /** Deepest nesting of (, [, {, CASE and chained unary NOT / - / +. */
  depth: number;
  /** Sum over tokens of 2^depth: what the parser's backtracking costs, in proportion. */
  parseCost: number;
  /** The range() calls' elements, list-bound calls and the first call that cannot be bounded (range-elements.ts); not measured past the depth limit, where the query is refused anyway. */
  ranges: RangeElements;
  /** Why the first reduce() whose accumulator may grow unbounded would (accumulators.ts); not measured past the depth limit. */
  growingReduce?: string;
  /** Why the first nested iteration that cannot be bounded would run unbounded (nested-iterations.ts); not measured past the depth limit. */
  nesting?: string;
  /** Why a value bound with AS would hold too many copies of earlier ones (nested-iterations.ts); not measured past the depth limit. */
  copies?: string;
}

const OPENERS = new Set(['(', '[', '{']);
const CLOSERS = new Set([')', ']', '}']);
/** Punctuation that ends an operand: a unary operator before it no longer nests what follows. */
const BINARY_PUNCT = new Set([',', ';', '|', ':', '=', '<>', '<', '>', '<=', '>=', '=~', '+=', '*', '/', '%', '^', '..']);
/** Keywords after which a `-` or `+` is unary and that end a unary chain before them. */
const KEYWORDS = new Set(
  'AND OR XOR IN IS STARTS ENDS CONTAINS WHEN THEN ELSE END AS WHERE RETURN WITH UNWIND MATCH OPTIONAL CREATE MERGE SET DELETE DETACH REMOVE ORDER BY SKIP LIMIT YIELD CALL ON UNION ALL DISTINCT ASC DESC ASCENDING DESCENDING FOREACH'.split(' '),
);

interface Frame {
  kind: string;
  unary: number;
}

function isUnarySign(token: CypherToken, previous: CypherToken | undefined): boolean {
  if (token.kind !== 'punct' || (token.text !== '-' && token.text !== '+')) return false;
  if (previous === undefined) return true;
  if (previous.kind === 'punct') return !CLOSERS.has(previous.text);
  return previous.kind === 'word' && KEYWORDS.has(previous.text.toUpperCase());
}

/** One pass over the tokens: nesting depth, parse cost and known range() spans. */
export function measureQueryComplexity(query: string, parameters: Record<string, unknown> = {}): QueryComplexity {
  const tokens = tokenizeCypher(query);
  const stack: Frame[] = [{ kind: 'root', unary: 0 }];
  let unaryTotal = 0;
  let depth = 0;
  let parseCost = 0;
  const endChain = (): void => {
    const top = stack[stack.length - 1]!;
    unaryTotal -= top.unary;
    top.unary = 0;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const previous = tokens[i - 1];
    const upper = token.kind === 'word' ? token.text.toUpperCase() : '';
    const top = stack[stack.length - 1]!;
    if (token.kind === 'punct' && OPENERS.has(token.text)) {
      stack.push({ kind: token.text, unary: 0 });
    } else if (upper === 'CASE') {
      stack.push({ kind: 'CASE', unary: 0 });
    } else if ((token.kind === 'punct' && CLOSERS.has(token.text)) || (upper === 'END' && top.kind === 'CASE')) {
      if (stack.length > 1) {
        stack.pop();
        unaryTotal -= top.unary;
      }
    } else if ((upper === 'NOT' && previous?.text.toUpperCase() !== 'IS') || isUnarySign(token, previous)) {
      top.unary++;
      unaryTotal++;
    } else if ((token.kind === 'punct' && (BINARY_PUNCT.has(token.text) || token.text === '-' || token.text === '+')) || KEYWORDS.has(upper)) {
      endChain();
    }
    const level = stack.length - 1 + unaryTotal;
    if (level > depth) depth = level;
    // Past the depth limit the query is refused anyway; cap the exponent so the sum stays exact.
    parseCost += 2 ** Math.min(level, 40);
  }
  const ranges = depth > MAX_EXPRESSION_DEPTH ? { elements: 0, listBoundCalls: 0 } : measureRangeElements(tokens, parameters);
  // reduce() and nested iterations all iterate `x IN list`: most queries have none.
  const iterates = depth <= MAX_EXPRESSION_DEPTH && tokens.some((t, i) => t.kind === 'word' && t.text.toUpperCase() === 'IN' && i > 0 && (tokens[i - 1]!.kind === 'word' || tokens[i - 1]!.kind === 'name'));
  const growingReduce = iterates ? growingAccumulator(tokens, parameters) : undefined;
  const nesting = iterates ? unboundedNesting(tokens, parameters) : undefined;
  const copies = depth > MAX_EXPRESSION_DEPTH ? undefined : repeatedCopies(tokens, parameters);
  return { depth, parseCost, ranges, ...(growingReduce === undefined ? {} : { growingReduce }), ...(nesting === undefined ? {} : { nesting }), ...(copies === undefined ? {} : { copies }) };
}

/** Throws QUERY_TOO_COMPLEX, naming the limit, for a query the database should never be sent. */
export function assertQueryNotTooComplex(query: string, parameters?: Record<string, unknown>): void {
  const measured = measureQueryComplexity(query, parameters);
  if (measured.depth > MAX_EXPRESSION_DEPTH) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query nests expressions ${measured.depth} levels deep (each (, [, {, CASE and each chained NOT, - or + adds a level); this gateway allows at most ${MAX_EXPRESSION_DEPTH}, because the database's parse time doubles with every level. Flatten it: drop redundant parentheses, or compute parts in earlier WITH steps.`,
      { limit: 'depth', depth: String(measured.depth), max: String(MAX_EXPRESSION_DEPTH) },
    );
  }
  if (measured.parseCost > MAX_PARSE_COST) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query would cost the database's parser about ${measured.parseCost} units (each token counts 2 to the power of its nesting depth); this gateway allows at most ${MAX_PARSE_COST}. Pass literal data as parameters (e.g. UNWIND $rows AS row ...), or split the query.`,
      { limit: 'parse_cost', cost: String(measured.parseCost), max: String(MAX_PARSE_COST) },
    );
  }
  const { ranges } = measured;
  if (ranges.unbounded !== undefined) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query calls ${ranges.unbounded}, so the gateway cannot tell how many elements the call would build; this gateway allows at most ${MAX_RANGE_ELEMENTS} per query, because the database bounds range() by neither its time limit nor its memory limit. Give range() bounds that are integer literals or parameters, or arithmetic of those (e.g. range(1, $n * 10)); size(list) and length(path) bounds are allowed in up to ${MAX_LIST_BOUND_RANGES} calls. Iterate around a range() (list comprehension, UNWIND ...) only over a range() with such bounds, a literal list or a list parameter.`,
      { limit: 'range_bounds', max: String(MAX_RANGE_ELEMENTS) },
    );
  }
  if (ranges.elements > MAX_RANGE_ELEMENTS) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query's range() calls would build ${ranges.elements} elements; this gateway allows at most ${MAX_RANGE_ELEMENTS} per query (a range() inside a list comprehension, reduce(), any/all/none/single, FOREACH or after UNWIND counts once per element iterated), because the database bounds range() by neither its time limit nor its memory limit. Use a smaller span, or page through it over several queries.`,
      { limit: 'range', elements: String(ranges.elements), max: String(MAX_RANGE_ELEMENTS) },
    );
  }
  if (measured.growingReduce !== undefined) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query has ${measured.growingReduce}; the database stops neither the time nor the memory of one expression, so such a reduce() could hold it for every tenant. Reduce over at most ${MAX_GROWING_REDUCE_STEPS} elements of a list the gateway can measure (a range() with literal or parameter bounds, a literal list, a list parameter, or a slice such as list[0..1000]), use the accumulator once per step, or build lists with collect() or a list comprehension instead.`,
      { limit: 'reduce_growth', maxSteps: String(MAX_GROWING_REDUCE_STEPS), maxCopies: String(MAX_ACCUMULATOR_COPIES) },
    );
  }
  if (measured.nesting !== undefined) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query has ${measured.nesting}; the database stops neither the time nor the memory of one expression, so nested iterations could hold it for every tenant. Iterate inside an iteration only over lists taken from the outer element (nodes(p), x.items) or lists the gateway can measure (a range() with literal or parameter bounds, a literal list, a list parameter, a slice with literal bounds), at most ${MAX_NESTED_ITERATION_ELEMENTS} elements or steps in all; or UNWIND the outer list, so the database checks its time limit between rows.`,
      { limit: 'nested_iterations', max: String(MAX_NESTED_ITERATION_ELEMENTS) },
    );
  }
  if (measured.copies !== undefined) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query has ${measured.copies}, as WITH a + a AS a repeated builds; the database stops neither the time nor the memory of one step on one row, so such a value could hold it for every tenant. Build lists once (collect(), a list comprehension, range()) instead of concatenating a value with itself step after step.`,
      { limit: 'bound_copies', max: String(MAX_BOUND_COPIES) },
    );
  }
  if (ranges.listBoundCalls > MAX_LIST_BOUND_RANGES) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query has ${ranges.listBoundCalls} range() calls bounded by size() or length() (counting each once per element iterated around it); this gateway allows at most ${MAX_LIST_BOUND_RANGES} per query, because each builds a copy of a list. Give range() bounds that are integer literals or parameters (e.g. range(0, $count - 1)), or UNWIND the list itself.`,
      { limit: 'range_list_bounds', calls: String(ranges.listBoundCalls), max: String(MAX_LIST_BOUND_RANGES) },
    );
  }
}
