// How many elements a query's range() calls build, worked out from its tokens. A
// range() inside an iteration (list comprehension, reduce(), any/all/none/single,
// FOREACH, pattern comprehension, or after UNWIND) builds its list once per element
// iterated, so it counts that many times. Calls whose size cannot be worked out here
// are reported, so the caller can refuse them: the database bounds range() by neither
// its time limit nor its memory limit.
//
// One file over 300 lines: one walk over the tokens with its stack of scopes; each rule
// is a case of that walk.

import type { CypherToken } from './cypher-tokens.js';

export interface RangeElements {
  /** Elements the range() calls build, each counted once per element iterated around it. */
  elements: number;
  /** range() calls bounded by size(…) or length(…), each counted once per element iterated around it. */
  listBoundCalls: number;
  /** Why the first range() call that cannot be bounded here cannot; undefined when all can. */
  unbounded?: string;
}

/** Past this, an expression is refused for its nesting depth anyway; stops recursion on hostile input. */
const MAX_NESTING = 64;
export const OPENERS: ReadonlySet<string> = new Set(['(', '[', '{']);
export const CLOSERS: ReadonlySet<string> = new Set([')', ']', '}']);
/** A name without its backticks: `` `a b` `` and a b are the same variable. */
export const bareName = (t: CypherToken): string => t.text.replace(/^`|`$/g, '');
const ITERATION_WHERE = 'an iteration (a list comprehension, reduce(), any/all/none/single, FOREACH or UNWIND) over a list whose length the gateway cannot work out';

/** A bound's value with every size(…)/length(…) term taken as 0, and how many such terms it adds or subtracts. */
interface Bound {
  value: number;
  lists: number;
}

interface Frame {
  opener: string;
  /** Multipliers of iterations that hold inside this frame; undefined: a list of unknown length. */
  factors: Array<{ count: number | undefined; unwind: boolean }>;
  /** Where the iterated list of `x IN list` starts, while it is being read. */
  sourceStart?: number;
  iterating: boolean;
  /** Where the expression of an UNWIND in this frame starts, until its AS. */
  unwindStart?: number | undefined;
}

export const isPunct = (t: CypherToken | undefined, text: string): boolean => t?.kind === 'punct' && t.text === text;
export const isWord = (t: CypherToken | undefined, upper: string): boolean => t?.kind === 'word' && t.text.toUpperCase() === upper;
export const isIdentifier = (t: CypherToken | undefined): boolean => t?.kind === 'word' || t?.kind === 'name';

/** `range` or `` `range` `` in any case, called, and not a property or namespaced function. */
function isRangeCall(tokens: readonly CypherToken[], i: number): boolean {
  const t = tokens[i]!;
  const name = t.kind === 'word' ? t.text.toLowerCase() : t.kind === 'name' ? t.text.toLowerCase() : '';
  return (name === 'range' || name === '`range`') && isPunct(tokens[i + 1], '(') && !isPunct(tokens[i - 1], '.');
}

function isSizeCall(tokens: readonly CypherToken[], i: number): boolean {
  const t = tokens[i];
  return t?.kind === 'word' && (t.text.toLowerCase() === 'size' || t.text.toLowerCase() === 'length') && isPunct(tokens[i + 1], '(') && !isPunct(tokens[i - 1], '.');
}

/** Index of the closer matching the opener at `open`, or tokens.length when it is missing. */
export function matchingClose(tokens: readonly CypherToken[], open: number): number {
  let level = 0;
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.kind !== 'punct') continue;
    if (OPENERS.has(t.text)) level++;
    else if (CLOSERS.has(t.text) && --level === 0) return j;
  }
  return tokens.length;
}

/** The arguments of the call whose `(` is at `open`, split at its own commas. */
export function callArguments(tokens: readonly CypherToken[], open: number): CypherToken[][] {
  const args: CypherToken[][] = [[]];
  const close = matchingClose(tokens, open);
  let level = 0;
  for (let j = open + 1; j < close; j++) {
    const t = tokens[j]!;
    if (t.kind === 'punct' && OPENERS.has(t.text)) level++;
    if (t.kind === 'punct' && CLOSERS.has(t.text)) level--;
    if (level === 0 && isPunct(t, ',')) args.push([]);
    else args[args.length - 1]!.push(t);
  }
  return args;
}

/** Short text of a bound for a message: tokens rejoined, cut at 60 characters. */
export function shown(tokens: readonly CypherToken[]): string {
  let text = '';
  for (const [k, t] of tokens.entries()) {
    const piece = t.kind === 'param' ? `$${t.text}` : t.text;
    const spaced = k > 0 && t.kind !== 'punct' && tokens[k - 1]!.kind !== 'punct';
    text += (spaced ? ' ' : '') + piece;
    if (text.length > 60) return `${text.slice(0, 57)}...`;
  }
  return text;
}

/** Why a parameter in a bound is unusable: missing, or not an integer. */
function parameterProblem(tokens: readonly CypherToken[], parameters: Record<string, unknown>): string | undefined {
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    // A list parameter inside size(…) or length(…) is what such a bound is for.
    if (isSizeCall(tokens, k)) k = matchingClose(tokens, k + 1);
    if (t.kind !== 'param') continue;
    if (!(t.text in parameters)) return `a bound from parameter $${t.text}, which was not sent`;
    const value = parameters[t.text];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `a bound from parameter $${t.text}, which is not an integer`;
  }
  return undefined;
}

/**
 * A bound made of integer literals, parameters, + - * / % ^ and parentheses, plus
 * size(…) or length(…) terms that are only added or subtracted; undefined for anything else.
 */
function evaluateBound(tokens: readonly CypherToken[], parameters: Record<string, unknown>): Bound | undefined {
  let pos = 0;
  let nesting = 0;
  const peek = (): string | undefined => (tokens[pos]?.kind === 'punct' ? tokens[pos]!.text : undefined);
  const plain = (b: Bound | undefined): b is Bound => b !== undefined && b.lists === 0;
  const atom = (): Bound | undefined => {
    const t = tokens[pos];
    if (t === undefined) return undefined;
    pos++;
    if (t.kind === 'number') {
      const value = Number(t.text);
      return Number.isFinite(value) ? { value, lists: 0 } : undefined;
    }
    if (t.kind === 'param') {
      const value = parameters[t.text];
      return typeof value === 'number' && Number.isSafeInteger(value) ? { value, lists: 0 } : undefined;
    }
    if (isSizeCall(tokens, pos - 1)) {
      // The list itself is bounded elsewhere (request size, storage quota, these limits); a range over it is one copy more.
      pos = matchingClose(tokens, pos) + 1;
      return pos <= tokens.length ? { value: 0, lists: 1 } : undefined;
    }
    if (isPunct(t, '(')) {
      const inner = sum();
      return isPunct(tokens[pos++], ')') ? inner : undefined;
    }
    return undefined;
  };
  const unary = (): Bound | undefined => {
    if (++nesting > MAX_NESTING) return undefined;
    let result: Bound | undefined;
    if (peek() === '-' || peek() === '+') {
      const sign = tokens[pos++]!.text === '-' ? -1 : 1;
      const inner = unary();
      result = inner && { value: sign * inner.value, lists: inner.lists };
    } else {
      const base = atom();
      if (base !== undefined && peek() === '^') {
        pos++;
        const exponent = unary();
        result = plain(base) && plain(exponent) ? { value: base.value ** exponent.value, lists: 0 } : undefined;
      } else {
        result = base;
      }
    }
    nesting--;
    return result;
  };
  const product = (): Bound | undefined => {
    let left = unary();
    while (left !== undefined && (peek() === '*' || peek() === '/' || peek() === '%')) {
      const op = tokens[pos++]!.text;
      const right = unary();
      if (!plain(left) || !plain(right)) return undefined;
      left = { value: op === '*' ? left.value * right.value : op === '/' ? Math.trunc(left.value / right.value) : left.value % right.value, lists: 0 };
    }
    return left;
  };
  const sum = (): Bound | undefined => {
    let left = product();
    while (left !== undefined && (peek() === '+' || peek() === '-')) {
      const op = tokens[pos++]!.text;
      const right = product();
      if (right === undefined) return undefined;
      left = { value: op === '+' ? left.value + right.value : left.value - right.value, lists: left.lists + right.lists };
    }
    return left;
  };
  const result = sum();
  return pos === tokens.length && result !== undefined && Number.isFinite(result.value) ? result : undefined;
}

type RangeCall = { elements: number; lists: number } | { unbounded: string };

/** What one range(start, end[, step]) call builds: elements at most `elements` plus `lists` list sizes. */
function measureCall(args: readonly CypherToken[][], parameters: Record<string, unknown>): RangeCall {
  if (args.length < 2 || args.length > 3) return { unbounded: `${args.length} argument${args.length === 1 ? '' : 's'}` };
  const bounds: Bound[] = [];
  for (const arg of args) {
    const problem = parameterProblem(arg, parameters);
    if (problem) return { unbounded: problem };
    const bound = evaluateBound(arg, parameters);
    if (bound === undefined) return { unbounded: `a bound the gateway cannot work out (${shown(arg) || 'empty'})` };
    bounds.push(bound);
  }
  const [start, end, step = { value: 1, lists: 0 }] = bounds as [Bound, Bound, Bound?];
  if (step.lists > 0) return { unbounded: `a step the gateway cannot work out (${shown(args[2]!)})` };
  // Step 0 is refused by the database; every size(…) term adds at most that list's length.
  if (step.value === 0) return { elements: 0, lists: 0 };
  const span = Math.floor((end.value - start.value) / step.value) + 1;
  return { elements: Math.max(0, span), lists: start.lists + end.lists };
}

/** At most how many elements `list[a..b]` (or `list[..b]`) has, with integer literal bounds, whatever the list. */
function sliceLength(tokens: readonly CypherToken[]): number | undefined {
  const last = tokens.length - 1;
  if (!isPunct(tokens[last], ']')) return undefined;
  let open = -1;
  for (let j = last - 1, level = 0; j >= 0; j--) {
    const t = tokens[j]!;
    if (t.kind === 'punct' && CLOSERS.has(t.text)) level++;
    else if (t.kind === 'punct' && OPENERS.has(t.text) && level-- === 0) {
      open = j;
      break;
    }
  }
  // A subscript follows the list it cuts: `[` that opens the expression is a list literal.
  if (open <= 0 || !isPunct(tokens[open], '[')) return undefined;
  const inner = tokens.slice(open + 1, last);
  const integer = (t: CypherToken | undefined): number | undefined => (t?.kind === 'number' && /^\d+$/.test(t.text) ? Number(t.text) : undefined);
  if (inner.length === 2 && isPunct(inner[0], '..')) return integer(inner[1]);
  if (inner.length !== 3 || !isPunct(inner[1], '..')) return undefined;
  const from = integer(inner[0]);
  const to = integer(inner[2]);
  return from === undefined || to === undefined ? undefined : Math.max(0, to - from);
}

/** Elements of an iterated list: a range() with known bounds, a literal list or comprehension over one, a list parameter, a slice with literal bounds. */
export function listLength(tokens: readonly CypherToken[], parameters: Record<string, unknown>, nesting = 0): number | undefined {
  if (tokens.length === 0 || nesting > MAX_NESTING) return undefined;
  const last = tokens.length - 1;
  if (tokens.length === 1 && tokens[0]!.kind === 'param') {
    const value = parameters[tokens[0]!.text];
    return Array.isArray(value) ? value.length : undefined;
  }
  if (isPunct(tokens[0], '(') && matchingClose(tokens, 0) === last) return listLength(tokens.slice(1, last), parameters, nesting + 1);
  const slice = sliceLength(tokens);
  if (slice !== undefined) return slice;
  if (isRangeCall(tokens, 0) && matchingClose(tokens, 1) === last) {
    const call = measureCall(callArguments(tokens, 1), parameters);
    return 'elements' in call && call.lists === 0 ? call.elements : undefined;
  }
  if (!isPunct(tokens[0], '[') || matchingClose(tokens, 0) !== last) return undefined;
  const inner = tokens.slice(1, last);
  if (inner.length === 0) return 0;
  let level = 0;
  let commas = 0;
  let sourceEnd = inner.length;
  for (const [k, t] of inner.entries()) {
    if (t.kind === 'punct' && OPENERS.has(t.text)) level++;
    else if (t.kind === 'punct' && CLOSERS.has(t.text)) level--;
    else if (level === 0 && isPunct(t, ',')) commas++;
    else if (level === 0 && (isPunct(t, '|') || isWord(t, 'WHERE'))) {
      sourceEnd = Math.min(sourceEnd, k);
    }
  }
  const comprehension = isIdentifier(inner[0]) && isWord(inner[1], 'IN');
  // A comprehension has at most as many elements as the list it reads; a pattern comprehension, unknown.
  if (comprehension) return listLength(inner.slice(2, sourceEnd), parameters, nesting + 1);
  return sourceEnd < inner.length ? undefined : commas + 1;
}

/** One pass over the tokens: every range() call, multiplied by the iterations around it. */
export function measureRangeElements(tokens: readonly CypherToken[], parameters: Record<string, unknown> = {}): RangeElements {
  const result: RangeElements = { elements: 0, listBoundCalls: 0 };
  const stack: Frame[] = [{ opener: 'root', factors: [], iterating: false }];
  const multiplier = (): number | undefined => {
    let product = 1;
    for (const frame of stack) {
      for (const { count } of frame.factors) {
        if (count === undefined) return undefined;
        product *= count;
      }
    }
    return product;
  };
  const startsIteration = (i: number): boolean => isIdentifier(tokens[i]) && isWord(tokens[i + 1], 'IN');
  for (let i = 0; i < tokens.length && result.unbounded === undefined; i++) {
    const t = tokens[i]!;
    const top = stack[stack.length - 1]!;
    if (t.kind === 'punct' && OPENERS.has(t.text)) {
      const frame: Frame = { opener: t.text, factors: [], iterating: false };
      if (t.text !== '{' && startsIteration(i + 1)) frame.sourceStart = i + 3;
      stack.push(frame);
    } else if (t.kind === 'punct' && CLOSERS.has(t.text)) {
      if (stack.length > 1) {
        stack.pop();
        // Rows an UNWIND inside a subquery makes go on after it.
        if (top.opener === '{') stack[stack.length - 1]!.factors.push(...top.factors.filter((f) => f.unwind));
      }
    } else if (top.opener !== 'root' && top.opener !== '{' && !top.iterating && (isPunct(t, '|') || isWord(t, 'WHERE')) && (top.sourceStart !== undefined || top.opener === '[')) {
      // From here to the frame's end runs once per element of the iterated list (of unknown length in a pattern comprehension).
      const count = top.sourceStart === undefined ? undefined : listLength(tokens.slice(top.sourceStart, i), parameters);
      top.factors.push({ count, unwind: false });
      top.iterating = true;
    } else if (isPunct(t, ',') && top.opener === '(' && top.sourceStart === undefined && startsIteration(i + 1)) {
      top.sourceStart = i + 3; // reduce(acc = init, x IN list | …)
    } else if (isWord(t, 'UNWIND') && !isPunct(tokens[i - 1], '.')) {
      top.unwindStart = i + 1;
    } else if (isWord(t, 'AS') && top.unwindStart !== undefined) {
      top.factors.push({ count: listLength(tokens.slice(top.unwindStart, i), parameters), unwind: true });
      top.unwindStart = undefined;
    } else if (isWord(t, 'UNION')) {
      top.factors = top.factors.filter((f) => !f.unwind);
    }
    if (!isRangeCall(tokens, i)) continue;
    const call = measureCall(callArguments(tokens, i + 1), parameters);
    if ('unbounded' in call) {
      result.unbounded = `range() with ${call.unbounded}`;
      break;
    }
    if (call.elements === 0 && call.lists === 0) continue;
    const times = multiplier();
    if (times === undefined) {
      result.unbounded = `range() inside ${ITERATION_WHERE}`;
      break;
    }
    result.elements += times * call.elements;
    result.listBoundCalls += times * call.lists;
  }
  return result;
}
