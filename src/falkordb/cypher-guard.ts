// Refuses Cypher that reaches outside the tenant's graph: LOAD CSV reads files
// and URLs from the database server's side. FalkorDB accepts comments between
// tokens (`LOAD/**/CSV`), so the check looks at the word sequence after removing
// comments, and errs towards refusing: a string that merely reads "load csv"
// is refused too (pass such text as a parameter instead).

import { GatewayError } from '../errors.js';
import { assertQueryNotTooComplex } from './query-complexity.js';

function words(text: string): string[] {
  return text.split(/[^A-Za-z0-9_]+/).filter((w) => w !== '');
}

function loadCsvIn(text: string): boolean {
  const seq = words(text).map((w) => w.toUpperCase());
  for (let i = 0; i + 1 < seq.length; i++) if (seq[i] === 'LOAD' && seq[i + 1] === 'CSV') return true;
  return false;
}

/** Removes `//…` and `/*…*\/` comments, skipping over string literals and backtick names. */
function stripCommentsStringAware(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
      out += ' ';
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
      out += ' ';
    } else if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== ch) j += text[j] === '\\' && ch !== '`' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Same removal, blind to strings: catches comment markers a string-aware reading would skip. */
function stripCommentsNaive(text: string): string {
  return text.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

export function containsLoadCsv(query: string): boolean {
  return loadCsvIn(query) || loadCsvIn(stripCommentsStringAware(query)) || loadCsvIn(stripCommentsNaive(query));
}

/** Every check a tenant's query passes before it is sent: LOAD CSV, then cost (query-complexity.ts). */
export function assertQueryAllowed(query: string, options: { allowLoadCsv: boolean }, parameters?: Record<string, unknown>): void {
  if (!options.allowLoadCsv && containsLoadCsv(query)) {
    throw new GatewayError(
      'QUERY_FORBIDDEN',
      'LOAD CSV is turned off on this gateway: it would read files or URLs from the database server. Send the data as query parameters instead (e.g. UNWIND $rows AS row CREATE ...).',
    );
  }
  assertQueryNotTooComplex(query, parameters);
}
