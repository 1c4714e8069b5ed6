// A linear-time Cypher tokenizer for the gateway's own checks: it skips comments,
// keeps string literals and backtick names whole (so nothing inside them counts),
// and never backtracks. It does not validate; the database still parses the query.

export type CypherTokenKind = 'word' | 'number' | 'string' | 'name' | 'param' | 'punct';

export interface CypherToken {
  kind: CypherTokenKind;
  /** The token's text; for `param`, the parameter's name without `$`. */
  text: string;
}

const IDENT = /[A-Za-z0-9_\u0080-\uffff]/;
const TWO_CHAR_PUNCT = new Set(['<>', '<=', '>=', '=~', '+=', '->', '<-', '..']);

function isIdent(ch: string | undefined): boolean {
  return ch !== undefined && IDENT.test(ch);
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** Ends of a quoted run starting at `start` (the quote); backslash escapes in strings, none in backtick names. */
function quotedEnd(text: string, start: number): number {
  const quote = text[start]!;
  let j = start + 1;
  while (j < text.length && text[j] !== quote) j += text[j] === '\\' && quote !== '`' ? 2 : 1;
  return Math.min(j + 1, text.length);
}

function numberEnd(text: string, start: number): number {
  let j = start;
  if (text[j] === '0' && (text[j + 1] === 'x' || text[j + 1] === 'X' || text[j + 1] === 'o' || text[j + 1] === 'O')) {
    j += 2;
    while (isIdent(text[j])) j++;
    return j;
  }
  while (isDigit(text[j])) j++;
  if (text[j] === '.' && isDigit(text[j + 1])) {
    j++;
    while (isDigit(text[j])) j++;
  }
  if ((text[j] === 'e' || text[j] === 'E') && (isDigit(text[j + 1]) || ((text[j + 1] === '-' || text[j + 1] === '+') && isDigit(text[j + 2])))) {
    j += 2;
    while (isDigit(text[j])) j++;
  }
  while (isIdent(text[j])) j++; // a malformed tail stays part of the number
  return j;
}

/** Splits a query into tokens in one pass; comments and whitespace are dropped. */
export function tokenizeCypher(text: string): CypherToken[] {
  const tokens: CypherToken[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v') {
      i++;
    } else if (ch === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else if (ch === '"' || ch === "'") {
      const end = quotedEnd(text, i);
      tokens.push({ kind: 'string', text: text.slice(i, end) });
      i = end;
    } else if (ch === '`') {
      const end = quotedEnd(text, i);
      tokens.push({ kind: 'name', text: text.slice(i, end) });
      i = end;
    } else if (ch === '$') {
      let end: number;
      let name: string;
      if (next === '`') {
        end = quotedEnd(text, i + 1);
        name = text.slice(i + 2, end - 1);
      } else {
        end = i + 1;
        while (isIdent(text[end])) end++;
        name = text.slice(i + 1, end);
      }
      tokens.push({ kind: 'param', text: name });
      i = end;
    } else if (isDigit(ch)) {
      const end = numberEnd(text, i);
      tokens.push({ kind: 'number', text: text.slice(i, end) });
      i = end;
    } else if (isIdent(ch)) {
      let end = i + 1;
      while (isIdent(text[end])) end++;
      tokens.push({ kind: 'word', text: text.slice(i, end) });
      i = end;
    } else {
      const two = text.slice(i, i + 2);
      const punct = TWO_CHAR_PUNCT.has(two) ? two : ch;
      tokens.push({ kind: 'punct', text: punct });
      i += punct.length;
    }
  }
  return tokens;
}
