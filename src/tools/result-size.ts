// Sizes a query result for a model's context: at most MAX_RESULT_BYTES of JSON. Whole
// rows first; when not even the first row fits, its long lists and strings are cut,
// each with a marker that says what is missing, so nothing is dropped silently. What
// was cut is said in `notice`, which also tells how to ask for the rest.

import { GatewayError } from '../errors.js';

/** The JSON text of results already serialised to measure them, so it is made once. */
const texts = new WeakMap<object, string>();

/** The text block of a tool result: its JSON, made once. */
export function resultText(structured: Record<string, unknown>): string {
  return texts.get(structured) ?? JSON.stringify(structured);
}

interface RowsResult {
  rows: Record<string, unknown>[];
  rowCount: number;
  truncated: boolean;
}

/** What a result cut to size says besides its rows (a type, not an interface, so it stays a plain record). */
export type SizedFields = {
  /** The rows the query produced, when rows were left out for size and that number is known. */
  totalRows?: number;
  /** What was left out and how to get it; present only when something was. */
  notice?: string;
};

const ELLIPSIS = '…';

/** The element that ends a list cut to its first items. */
export function moreItemsMarker(dropped: number): string {
  return `${ELLIPSIS} ${dropped} more ${dropped === 1 ? 'item' : 'items'}`;
}

/** What follows the kept start of a cut string. */
export function moreCharactersMarker(dropped: number): string {
  return `${ELLIPSIS} (${dropped} more ${dropped === 1 ? 'character' : 'characters'})`;
}

/** The key, and the value, that end a map cut to its first keys. */
export const MORE_KEYS_KEY = ELLIPSIS;
export function moreKeysMarker(dropped: number): string {
  return `${dropped} more ${dropped === 1 ? 'key' : 'keys'}`;
}

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * The result within `maxBytes` of JSON (MAX_RESULT_BYTES): the whole rows that fit, else
 * the first row with its long values cut; RESULT_TOO_LARGE only when not even that fits
 * (a row of very many columns or keys). A result within the limit is serialised once,
 * here, and that text is the one sent.
 */
export function fitRows<T extends RowsResult>(result: T, maxBytes: number): T & SizedFields {
  // Rows the row cap (MAX_ROWS) left out are said too, though the result is not cut here.
  const whole: T & SizedFields = result.truncated ? { notice: sizeNotice({ returned: result.rowCount, total: result.rowCount, capped: true }), ...result } : result;
  const text = JSON.stringify(whole);
  if (text.length <= maxBytes / 3 || Buffer.byteLength(text, 'utf8') <= maxBytes) {
    texts.set(whole, text);
    return whole;
  }
  // Room for the rows beside everything else, with the longest notice this result can get.
  const total = result.rowCount;
  const capped = result.truncated;
  const longestNotice = sizeNotice({ returned: total, total, capped, maxBytes, valuesCut: true, paging: true });
  const room = maxBytes - bytes({ ...result, rows: [], truncated: true, totalRows: total, notice: longestNotice });
  let used = 2;
  let kept = 0;
  for (const row of result.rows) {
    const size = bytes(row) + (kept > 0 ? 1 : 0);
    if (used + size > room) break;
    used += size;
    kept += 1;
  }
  let rows = result.rows.slice(0, kept);
  const first = result.rows[0];
  if (kept === 0 && first !== undefined) {
    const cut = cutToFit(first, room - 2);
    if (cut === undefined) throw tooLarge(maxBytes);
    rows = [cut];
  }
  const fitted = {
    notice: sizeNotice({ returned: rows.length, total, capped, maxBytes, valuesCut: kept === 0 }),
    ...result,
    rows,
    rowCount: rows.length,
    truncated: true,
    // Known only when the row cap left nothing out: the database sent every row.
    ...(!capped && rows.length < total ? { totalRows: total } : {}),
  };
  const fittedText = JSON.stringify(fitted);
  // The room above was measured with the longest notice, so this holds; checked all the same.
  if (Buffer.byteLength(fittedText, 'utf8') > maxBytes) throw tooLarge(maxBytes);
  texts.set(fitted, fittedText);
  return fitted as T & SizedFields;
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    'RESULT_TOO_LARGE',
    `The result's first row is more than ${maxBytes} bytes of JSON, the most this gateway returns, even with its long lists and strings cut. Return fewer columns, or only the properties you need.`,
    { limit: 'result_bytes', max: String(maxBytes) },
  );
}

interface NoticeFacts {
  returned: number;
  /** The rows the result had before it was cut to size. */
  total: number;
  /** The row cap (MAX_ROWS) had already left rows out, so the query has more than `total`. */
  capped: boolean;
  /** The byte limit, when it is what cut the result. */
  maxBytes?: number;
  /** Long values of the first row were cut. */
  valuesCut?: boolean;
  /** Say how to page: by default when rows were left out. */
  paging?: boolean;
}

/** What a cut result says of itself: how many rows came back of how many, why, and how to ask for the rest. */
export function sizeNotice({ returned, total, capped, maxBytes, valuesCut = false, paging = returned < total || capped }: NoticeFacts): string {
  const of = capped ? `more than ${total}` : String(total);
  const why = maxBytes === undefined ? `a query returns at most ${total} rows here` : `the result is limited to ${maxBytes} bytes of JSON`;
  const parts = [`Returned ${returned} of ${of} rows: ${why}.`];
  if (valuesCut) {
    parts.push(`Long values in row 1 were cut: a cut list ends with an element "${ELLIPSIS} N more items", a cut string with "${ELLIPSIS} (N more characters)", a cut map with the key "${MORE_KEYS_KEY}". Return slices (list[0..100], substring(s, 0, 1000)) or fewer properties to see more.`);
  }
  const narrower = maxBytes === undefined ? 'narrow the query with WHERE' : 'return fewer columns per row';
  if (paging) parts.push(`Page through the rest with SKIP ${returned} LIMIT ${Math.max(returned, 1)}, or ${narrower}.`);
  return parts.join(' ');
}

/**
 * The row with every list, string and nested map cut to at most `n` items, characters or
 * keys, for the largest `n` whose JSON fits in `room` bytes; undefined when none does.
 * The size grows with `n` (but for the markers), so a binary search finds a good `n`.
 */
export function cutToFit(row: Record<string, unknown>, room: number): Record<string, unknown> | undefined {
  let low = 0;
  let best = cutRow(row, 0);
  if (bytes(best) > room) return undefined;
  let high = longestPart(row);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const candidate = cutRow(row, mid);
    if (bytes(candidate) <= room) {
      low = mid;
      best = candidate;
    } else {
      high = mid - 1;
    }
  }
  return best;
}

/** The row's columns stay; their values are cut. */
function cutRow(row: Record<string, unknown>, n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) out[column] = cutValue(value, n);
  return out;
}

export function cutValue(value: unknown, n: number): unknown {
  if (typeof value === 'string') return cutString(value, n);
  if (Array.isArray(value)) {
    const marker = moreItemsMarker(value.length - n);
    // A cut whose marker is longer than the few items it replaces is no cut.
    if (value.length <= n || (value.length - n <= 8 && bytes(value.slice(n)) <= marker.length + 2)) return value.map((v) => cutValue(v, n));
    const kept = value.slice(0, n).map((v) => cutValue(v, n));
    kept.push(marker);
    return kept;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries.slice(0, n)) out[key] = cutValue(v, n);
    if (entries.length > n) out[MORE_KEYS_KEY] = moreKeysMarker(entries.length - n);
    return out;
  }
  return value;
}

function cutString(value: string, n: number): string {
  const marker = moreCharactersMarker(value.length - n);
  // A cut that is not shorter than the whole string is no cut.
  if (value.length <= n + marker.length) return value;
  let end = n;
  // Never split a surrogate pair: its halves are not characters.
  if (end > 0 && /[\uD800-\uDBFF]/.test(value.charAt(end - 1))) end -= 1;
  return value.slice(0, end) + moreCharactersMarker(value.length - end);
}

/** The most items, characters or keys any one part of the value has: past it, cutting changes nothing. */
function longestPart(value: unknown): number {
  let longest = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') longest = Math.max(longest, v.length);
    else if (Array.isArray(v)) {
      longest = Math.max(longest, v.length);
      // One at a time: spreading millions of items into push() overflows the call stack.
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      const values = Object.values(v);
      longest = Math.max(longest, values.length);
      for (const item of values) stack.push(item);
    }
  }
  return longest;
}
