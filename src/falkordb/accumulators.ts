// reduce() calls whose accumulator can grow past what the database bounds. One
// expression runs to its end in FalkorDB 4.16.3 whatever TIMEOUT or
// QUERY_MEM_CAPACITY say: `reduce(acc = [], x IN range(1, 60000) | acc + [x])`
// (each step copies the list) ran 40 s past a 3 s timeout, and
// `reduce(acc = [1], i IN range(1, 28) | acc + acc)` (each step doubles it) grew
// the server by 6 GB. Found from the tokens alone, so the rules are conservative:
// an accumulator that starts as a number and meets no list or string stays a number.

import type { CypherToken } from './cypher-tokens.js';
import { CLOSERS, OPENERS, bareName, callArguments, isIdentifier, isPunct, isWord, listLength, matchingClose, shown } from './range-elements.js';

/** Most steps of a reduce() that uses its accumulator once and may grow it: about n²/2 element copies (20,000 steps took 4.4 s). */
export const MAX_GROWING_REDUCE_STEPS = 10_000;
/** Most copies of its start value a reduce() that uses its accumulator more than once may build: uses^steps. */
export const MAX_ACCUMULATOR_COPIES = 2 ** 20;

interface ReduceCall {
  /** The token index of `reduce`. */
  at: number;
  /** From `(` to its `)`. */
  open: number;
  close: number;
  accumulator: string;
  init: CypherToken[];
  list: CypherToken[];
  step: CypherToken[];
}


function reduceCall(tokens: readonly CypherToken[], at: number): ReduceCall | undefined {
  const t = tokens[at]!;
  if (t.kind !== 'word' || t.text.toLowerCase() !== 'reduce' || !isPunct(tokens[at + 1], '(') || isPunct(tokens[at - 1], '.')) return undefined;
  const open = at + 1;
  const args = callArguments(tokens, open);
  if (args.length !== 2) return undefined;
  const [start, over] = args as [CypherToken[], CypherToken[]];
  if (!isIdentifier(start[0]) || !isPunct(start[1], '=') || !isIdentifier(over[0]) || !isWord(over[1], 'IN')) return undefined;
  let bar = -1;
  for (let j = 2, level = 0; j < over.length; j++) {
    const token = over[j]!;
    if (token.kind === 'punct' && OPENERS.has(token.text)) level++;
    else if (token.kind === 'punct' && CLOSERS.has(token.text)) level--;
    else if (level === 0 && isPunct(token, '|')) {
      bar = j;
      break;
    }
  }
  if (bar < 0) return undefined;
  return { at, open, close: matchingClose(tokens, open), accumulator: bareName(start[0]!), init: start.slice(2), list: over.slice(2, bar), step: over.slice(bar + 1) };
}

/** Where an iteration's body runs once per element: list comprehensions, quantifiers, reduce(). */
function iterationSpans(tokens: readonly CypherToken[]): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let j = 0; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.kind === 'punct' && (t.text === '[' || t.text === '(') && isIdentifier(tokens[j + 1]) && isWord(tokens[j + 2], 'IN')) spans.push([j, matchingClose(tokens, j)]);
    const call = reduceCall(tokens, j);
    if (call !== undefined) spans.push([call.open, call.close]);
  }
  return spans;
}

/** A start value that is a number, and a step that brings in no list, map or string: the accumulator stays a number. */
function staysNumber(call: ReduceCall): boolean {
  const init = call.init.length === 2 && isPunct(call.init[0], '-') ? call.init.slice(1) : call.init;
  if (init.length !== 1 || init[0]!.kind !== 'number') return false;
  return !call.step.some((t) => t.kind === 'string' || isPunct(t, '[') || isPunct(t, '{'));
}

/**
 * Why the first reduce() whose accumulator may grow without a bound the gateway can
 * see would run unbounded in the database; undefined when there is none.
 */
export function growingAccumulator(tokens: readonly CypherToken[], parameters: Record<string, unknown> = {}): string | undefined {
  let spans: Array<[number, number]> | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const call = reduceCall(tokens, i);
    if (call === undefined) continue;
    const uses = call.step.filter((t, k) => isIdentifier(t) && bareName(t) === call.accumulator && !isPunct(call.step[k - 1], '.')).length;
    if (uses === 0 || staysNumber(call)) continue;
    const over = shown(call.list);
    spans ??= iterationSpans(tokens);
    if (spans.some(([from, to]) => from < call.at && call.close <= to && from !== call.open)) {
      return `a reduce() over ${over} that may grow its accumulator ${call.accumulator}, inside another iteration`;
    }
    const steps = listLength(call.list, parameters);
    if (steps === undefined) return `a reduce() over ${over}, a list whose length the gateway cannot work out, that may grow its accumulator ${call.accumulator}`;
    if (uses > 1 && steps * Math.log2(uses) > Math.log2(MAX_ACCUMULATOR_COPIES)) {
      return `a reduce() that uses its accumulator ${call.accumulator} ${uses} times in each of ${steps} steps, which may multiply it ${uses}^${steps} times (at most ${MAX_ACCUMULATOR_COPIES} copies)`;
    }
    if (steps > MAX_GROWING_REDUCE_STEPS) return `a reduce() of ${steps} steps that may grow its accumulator ${call.accumulator} (at most ${MAX_GROWING_REDUCE_STEPS} steps)`;
  }
  return undefined;
}
