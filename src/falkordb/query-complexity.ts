// Refuses queries that would cost the shared database far more than their size
// suggests, before they are sent. FalkorDB 4.16's parser takes time exponential in
// how deeply expressions nest, and neither its TIMEOUT nor the gateway's slot release
// stops a parse once it has started; range() is bounded by neither TIMEOUT nor
// QUERY_MEM_CAPACITY. Figures behind each limit: docs/security.md, "Noisy neighbours".

import { GatewayError } from '../errors.js';
import { tokenizeCypher, type CypherToken } from './cypher-tokens.js';

/** Deepest expression nesting allowed: 12 levels parse in ~0.1 s; each level more doubles that. */
export const MAX_EXPRESSION_DEPTH = 12;
/**
 * Parse-cost budget: every token weighs 2^(its depth). Measured at 0.5 to 2.7 µs per unit
 * depending on the shape, so the budget parses in under ~0.7 s; a 100 KB query of flat
 * literal data (depth 3) weighs about 205,000.
 */
export const MAX_PARSE_COST = 250_000;
/** Most elements the range() calls of one query may build, when their bounds are known (~16 bytes each). */
export const MAX_RANGE_ELEMENTS = 10_000_000;

export interface QueryComplexity {
  /** Deepest nesting of (, [, {, CASE and chained unary NOT / - / +. */
  depth: number;
  /** Sum over tokens of 2^depth: what the parser's backtracking costs, in proportion. */
  parseCost: number;
  /** Elements of the range() calls whose bounds are literals or parameters; others are not counted. */
  rangeElements: number;
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
  return { depth, parseCost, rangeElements: rangeElements(tokens, parameters) };
}

/** Total elements of the range(start, end[, step]) calls whose arguments can be worked out here. */
function rangeElements(tokens: CypherToken[], parameters: Record<string, unknown>): number {
  let total = 0;
  for (let i = 0; i + 1 < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind !== 'word' || token.text.toLowerCase() !== 'range' || tokens[i + 1]!.text !== '(' || tokens[i - 1]?.text === '.') continue;
    const args = callArguments(tokens, i + 2);
    if (args.length < 2 || args.length > 3) continue;
    const [start, end, step = 1] = args.map((arg) => evaluateConstant(arg, parameters));
    if (start === undefined || end === undefined || step === undefined || step === 0) continue;
    const span = Math.floor((end - start) / step) + 1;
    if (span > 0) total += span;
  }
  return total;
}

/** The arguments of a call whose `(` is just before `from`, split at its own commas. */
function callArguments(tokens: CypherToken[], from: number): CypherToken[][] {
  const args: CypherToken[][] = [[]];
  let level = 0;
  for (let j = from; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.kind === 'punct' && OPENERS.has(t.text)) level++;
    if (t.kind === 'punct' && CLOSERS.has(t.text)) {
      if (level === 0) return args;
      level--;
    }
    if (level === 0 && t.kind === 'punct' && t.text === ',') args.push([]);
    else args[args.length - 1]!.push(t);
  }
  return args;
}

/**
 * The value of an argument made only of numbers, parameters, + - * / % ^ and
 * parentheses; undefined for anything else (a variable, a function call, a string).
 */
function evaluateConstant(tokens: CypherToken[], parameters: Record<string, unknown>): number | undefined {
  let pos = 0;
  // Recursion stays shallow: past this the query is refused for its depth anyway.
  let nesting = 0;
  const peek = (): string | undefined => (tokens[pos]?.kind === 'punct' ? tokens[pos]!.text : undefined);
  const atom = (): number | undefined => {
    const t = tokens[pos++];
    if (t === undefined) return undefined;
    if (t.kind === 'number') {
      const value = Number(t.text);
      return Number.isNaN(value) ? undefined : value;
    }
    if (t.kind === 'param') {
      const value = parameters[t.text];
      return typeof value === 'number' ? value : undefined;
    }
    if (t.kind === 'punct' && t.text === '(') {
      const value = sum();
      return tokens[pos++]?.text === ')' ? value : undefined;
    }
    return undefined;
  };
  const unary = (): number | undefined => {
    if (++nesting > 4 * MAX_EXPRESSION_DEPTH) return undefined;
    if (peek() === '-' || peek() === '+') {
      const sign = tokens[pos++]!.text === '-' ? -1 : 1;
      const value = unary();
      nesting--;
      return value === undefined ? undefined : sign * value;
    }
    const base = atom();
    if (base === undefined || peek() !== '^') {
      nesting--;
      return base;
    }
    pos++;
    const exponent = unary();
    nesting--;
    return exponent === undefined ? undefined : base ** exponent;
  };
  const product = (): number | undefined => {
    let value = unary();
    while (value !== undefined && (peek() === '*' || peek() === '/' || peek() === '%')) {
      const op = tokens[pos++]!.text;
      const right = unary();
      if (right === undefined) return undefined;
      value = op === '*' ? value * right : op === '/' ? value / right : value % right;
    }
    return value;
  };
  const sum = (): number | undefined => {
    let value = product();
    while (value !== undefined && (peek() === '+' || peek() === '-')) {
      const op = tokens[pos++]!.text;
      const right = product();
      if (right === undefined) return undefined;
      value = op === '+' ? value + right : value - right;
    }
    return value;
  };
  const value = sum();
  return pos === tokens.length && value !== undefined && !Number.isNaN(value) ? value : undefined;
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
  if (measured.rangeElements > MAX_RANGE_ELEMENTS) {
    throw new GatewayError(
      'QUERY_TOO_COMPLEX',
      `The query's range() calls would build ${measured.rangeElements} elements; this gateway allows at most ${MAX_RANGE_ELEMENTS} per query, because the database bounds range() by neither its time limit nor its memory limit. Use a smaller span, or page through it over several queries.`,
      { limit: 'range', elements: String(measured.rangeElements), max: String(MAX_RANGE_ELEMENTS) },
    );
  }
}
