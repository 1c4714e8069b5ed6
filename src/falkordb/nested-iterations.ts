// Iterations nested inside iterations: `[x IN a | [y IN a | 1]]` builds |a|² elements
// in one expression, which FalkorDB 4.16.3 runs to its end whatever TIMEOUT or
// QUERY_MEM_CAPACITY say (with a = range(1, 100000) it grew the server past 4 GB
// 18 s into a 3 s timeout; upstream FalkorDB#1486). An inner iteration over a
// list taken from the outer element (`[p IN paths | [n IN nodes(p) | n.name]]`)
// is bounded by that element; any other must have a size the gateway can work out.

import type { CypherToken } from './cypher-tokens.js';
import { CLOSERS, OPENERS, bareName, isIdentifier, isPunct, isWord, listLength, matchingClose, shown } from './range-elements.js';

/** Most elements (or steps) nested iterations over lists the gateway can measure may make, outer times inner. */
export const MAX_NESTED_ITERATION_ELEMENTS = 10_000_000;

interface Iteration {
  variable: string;
  /** The token index of the opener. */
  open: number;
  list: CypherToken[];
  /** Where the part run once per element starts (its `|` or WHERE), and its closer. */
  bodyStart: number;
  close: number;
}

const CLAUSES = new Set(['WITH', 'RETURN', 'UNWIND', 'YIELD', 'MATCH', 'WHERE', 'CALL', 'ORDER', 'SKIP', 'LIMIT', 'UNION']);

/** `[x IN list | …]`, `any(x IN list WHERE …)`, `FOREACH (x IN list | …)`, and reduce()'s `x IN list | …`. */
function iterations(tokens: readonly CypherToken[]): Iteration[] {
  const found: Iteration[] = [];
  for (let j = 0; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.kind !== 'punct' || (t.text !== '[' && t.text !== '(' && t.text !== ',')) continue;
    if (!isIdentifier(tokens[j + 1]) || !isWord(tokens[j + 2], 'IN')) continue;
    const open = t.text === ',' ? enclosingOpener(tokens, j) : j;
    if (open < 0) continue;
    const close = matchingClose(tokens, open);
    let bodyStart = -1;
    for (let k = j + 3, level = 0; k < close; k++) {
      const token = tokens[k]!;
      if (token.kind === 'punct' && OPENERS.has(token.text)) level++;
      else if (token.kind === 'punct' && CLOSERS.has(token.text)) level--;
      else if (level === 0 && (isPunct(token, '|') || isWord(token, 'WHERE'))) {
        bodyStart = k;
        break;
      }
    }
    if (bodyStart < 0) continue;
    found.push({ variable: bareName(tokens[j + 1]!), open, list: tokens.slice(j + 3, bodyStart), bodyStart, close });
  }
  return found;
}

/** The `(` a comma at `at` sits directly in (reduce's second argument), or -1. */
function enclosingOpener(tokens: readonly CypherToken[], at: number): number {
  for (let j = at - 1, level = 0; j >= 0; j--) {
    const t = tokens[j]!;
    if (t.kind === 'punct' && CLOSERS.has(t.text)) level++;
    else if (t.kind === 'punct' && OPENERS.has(t.text) && level-- === 0) {
      return t.text === '(' && tokens[j - 1]?.kind === 'word' && tokens[j - 1]!.text.toLowerCase() === 'reduce' ? j : -1;
    }
  }
  return -1;
}

/** Most copies of earlier values one bound value may hold: `WITH a + a AS a` doubles a each time. */
export const MAX_BOUND_COPIES = 2 ** 20;

interface Bindings {
  /** Lengths of the lists bound with `expression AS name` (WITH, RETURN), where the gateway can work them out. */
  lengths: Map<string, number | undefined>;
  /** The bound value that holds the most copies of earlier bound values, and how many. */
  most: { name: string; copies: number } | undefined;
}

function listBindings(tokens: readonly CypherToken[], parameters: Record<string, unknown>): Bindings {
  const bindings = new Map<string, number | undefined>();
  // How many copies of earlier bound values each one holds: the sum over the bound names its expression names.
  const copies = new Map<string, number>();
  let most: Bindings['most'];
  let level = 0;
  let start = 0;
  let unwinding = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'punct' && OPENERS.has(t.text)) level++;
    else if (t.kind === 'punct' && CLOSERS.has(t.text)) level--;
    if (level !== 0) continue;
    if (isPunct(t, ',') || (t.kind === 'word' && CLAUSES.has(t.text.toUpperCase()))) {
      start = i + 1;
      if (t.kind === 'word') unwinding = t.text.toUpperCase() === 'UNWIND';
    } else if (isWord(t, 'AS') && isIdentifier(tokens[i + 1])) {
      const name = bareName(tokens[i + 1]!);
      const expression = tokens.slice(start, i);
      // An UNWIND binds each element: a list of unknown length, holding what the list held.
      const length = unwinding ? undefined : lengthOf(expression, parameters, bindings);
      const held = expression.reduce((sum, e, k) => (isIdentifier(e) && !isPunct(expression[k - 1], '.') && !isPunct(expression[k + 1], '(') ? sum + (copies.get(bareName(e)) ?? 0) : sum), 0);
      copies.set(name, Math.max(1, held));
      if (held > (most?.copies ?? 1)) most = { name, copies: held };
      // A name bound twice (WITH xs … WITH other AS xs) may be either list: the longer, or unknown.
      const before = bindings.get(name);
      bindings.set(name, !bindings.has(name) ? length : before === undefined || length === undefined ? undefined : Math.max(before, length));
    }
  }
  return { lengths: bindings, most };
}

/** At most how many elements a list expression has: listLength's forms, a bound list variable, a slice of one, a range up to its size. */
function lengthOf(list: readonly CypherToken[], parameters: Record<string, unknown>, bindings: ReadonlyMap<string, number | undefined>): number | undefined {
  const known = listLength(list, parameters);
  if (known !== undefined) return known;
  const first = list[0];
  if (first === undefined || !isIdentifier(first) || isPunct(list[1], '(')) {
    // range(a, size(v) ± k): at most |v| + |k| + 1 elements from a start of 0 or more.
    const sized = /^range\(\d+,size\(([^()]+)\)(?:[-+](\d+))?\)$/i.exec(list.map((t) => (t.kind === 'param' ? `$${t.text}` : t.text)).join(''));
    const of = sized === null ? undefined : bindings.get(sized[1]!.replace(/^`|`$/g, ''));
    return of === undefined ? undefined : of + Number(sized![2] ?? 0) + 1;
  }
  const length = bindings.get(bareName(first));
  if (list.length === 1) return length;
  // v[a..b] or v[i]: never more than v.
  return isPunct(list[1], '[') && matchingClose(list, 1) === list.length - 1 ? length : undefined;
}

/**
 * An inner list made only from the outer elements (their properties, nodes(p),
 * keys(x)): each is iterated once per outer element, so the whole is bounded by
 * the outer list's own data. A list from anywhere else (n.big, a bound list) may
 * be iterated whole once per element.
 */
function fromElements(list: readonly CypherToken[], elements: ReadonlySet<string>): boolean {
  const names = list.filter((t, k) => isIdentifier(t) && !isPunct(list[k + 1], '(') && !isPunct(list[k - 1], '.') && !isPunct(list[k - 1], ':'));
  return names.length > 0 && names.every((t) => elements.has(bareName(t)));
}

/** Why the first nested iteration whose size cannot be bounded would run unbounded; undefined when none. */
export function unboundedNesting(tokens: readonly CypherToken[], parameters: Record<string, unknown> = {}): string | undefined {
  const all = iterations(tokens);
  if (all.length < 2) return undefined;
  const bindings = listBindings(tokens, parameters).lengths;
  for (const inner of all) {
    const outers = all.filter((o) => o.bodyStart < inner.open && inner.close <= o.close);
    if (outers.length === 0) continue;
    if (fromElements(inner.list, new Set(outers.map((o) => o.variable)))) continue;
    let product = lengthOf(inner.list, parameters, bindings);
    for (const outer of outers) {
      const count = lengthOf(outer.list, parameters, bindings);
      if (count === undefined || product === undefined) {
        return `an iteration over ${shown(inner.list)} inside an iteration over ${shown(outer.list)}, lists whose lengths the gateway cannot work out`;
      }
      product *= count;
    }
    if (product !== undefined && product > MAX_NESTED_ITERATION_ELEMENTS) return `nested iterations making ${product} elements or steps (at most ${MAX_NESTED_ITERATION_ELEMENTS})`;
  }
  return undefined;
}

/** Why a value bound with AS would hold too many copies of earlier ones (`WITH a + a AS a` repeated); undefined when none does. */
export function repeatedCopies(tokens: readonly CypherToken[], parameters: Record<string, unknown> = {}): string | undefined {
  const { most } = listBindings(tokens, parameters);
  return most !== undefined && most.copies > MAX_BOUND_COPIES ? `a value bound to ${most.name} that holds ${most.copies} copies of earlier ones (at most ${MAX_BOUND_COPIES})` : undefined;
}
