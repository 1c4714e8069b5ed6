// Tells, from the query text alone, whether a Cypher query may write. A query
// that cannot write runs as GRAPH.RO_QUERY even for a caller allowed to write,
// because GRAPH.QUERY on a missing key creates an empty graph, even for a read
// or a query that fails to parse. The test errs towards "may write": a word
// that only looks like a write clause costs nothing worse than running the
// query as GRAPH.QUERY, as every query of a writing caller once did.

/** Clauses that change a graph (DETACH DELETE and FOREACH bodies contain one of them). */
const WRITE_CLAUSES = new Set(['CREATE', 'MERGE', 'SET', 'DELETE', 'REMOVE', 'DROP']);

/** FalkorDB's procedures of mode READ (`CALL dbms.procedures()`); any other CALL may write. */
const READ_PROCEDURES = new Set(
  [
    'algo.betweenness', 'algo.BFS', 'algo.labelPropagation', 'algo.MSF', 'algo.pageRank', 'algo.SPpaths', 'algo.SSpaths', 'algo.WCC',
    'db.constraints', 'db.idx.fulltext.queryNodes', 'db.idx.fulltext.queryRelationships', 'db.idx.vector.queryNodes',
    'db.idx.vector.queryRelationships', 'db.indexes', 'db.labels', 'db.meta.stats', 'db.propertyKeys', 'db.relationshipTypes',
    'dbms.functions', 'dbms.procedures',
  ].map((name) => name.toLowerCase()),
);

interface Word {
  text: string;
  /** The character before the word, ignoring spaces ('' at the start). */
  before: string;
  /** The character after the word, ignoring spaces ('' at the end). */
  after: string;
  /** The dotted name that starts with this word (`db.idx.fulltext.drop`). */
  dotted: string;
}

/** The bare words of a query, outside strings, `backtick` names and comments. */
function words(query: string): Word[] {
  const found: Word[] = [];
  let last = '';
  let i = 0;
  const nextSignificant = (from: number): string => {
    let j = from;
    while (j < query.length && /\s/.test(query[j]!)) j++;
    return query[j] ?? '';
  };
  while (i < query.length) {
    const ch = query[i]!;
    if (ch === '/' && query[i + 1] === '/') {
      const end = query.indexOf('\n', i);
      i = end === -1 ? query.length : end;
    } else if (ch === '/' && query[i + 1] === '*') {
      const end = query.indexOf('*/', i + 2);
      i = end === -1 ? query.length : end + 2;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < query.length && query[j] !== ch) j += query[j] === '\\' && ch !== '`' ? 2 : 1;
      i = j + 1;
      last = ch;
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i;
      while (j < query.length && /[A-Za-z0-9_]/.test(query[j]!)) j++;
      let k = j;
      while (query[k] === '.' && /[A-Za-z_]/.test(query[k + 1] ?? '')) {
        k++;
        while (k < query.length && /[A-Za-z0-9_]/.test(query[k]!)) k++;
      }
      found.push({ text: query.slice(i, j), before: last, after: nextSignificant(j), dotted: query.slice(i, k) });
      last = query[j - 1]!;
      i = j;
    } else {
      if (!/\s/.test(ch)) last = ch;
      i++;
    }
  }
  return found;
}

/**
 * Whether `query` may change a graph: it has a write clause (CREATE, MERGE,
 * SET, DELETE, REMOVE, DROP) or calls a procedure FalkorDB does not list as
 * read-only. A property (`n.set`), parameter (`$create`), label (`:Set`) or map
 * key (`{set: 1}`) of such a name is not a clause.
 */
export function queryMayWrite(query: string): boolean {
  const list = words(query);
  for (const [i, word] of list.entries()) {
    if (word.before === '.' || word.before === '$' || word.before === ':' || word.after === ':') continue;
    const upper = word.text.toUpperCase();
    if (WRITE_CLAUSES.has(upper)) return true;
    // `CALL {…}` is a subquery, whose clauses are words of the query like any other.
    if (upper === 'CALL' && word.after !== '{' && !READ_PROCEDURES.has(list[i + 1]?.dotted.toLowerCase() ?? '')) return true;
  }
  return false;
}

/** Write clauses that only take data away. */
const REMOVING_CLAUSES = new Set(['DELETE', 'REMOVE', 'DROP']);

/**
 * Whether `query` writes and every write in it only takes data away (DELETE,
 * DETACH DELETE, REMOVE, DROP), so it may run for a tenant over its storage
 * quota: that is how it frees room. Any CREATE, MERGE, SET or procedure that may
 * write makes it a query that may add data.
 */
export function queryOnlyRemoves(query: string): boolean {
  const list = words(query);
  let removes = false;
  for (const [i, word] of list.entries()) {
    if (word.before === '.' || word.before === '$' || word.before === ':' || word.after === ':') continue;
    const upper = word.text.toUpperCase();
    if (REMOVING_CLAUSES.has(upper)) removes = true;
    else if (WRITE_CLAUSES.has(upper)) return false;
    else if (upper === 'CALL' && word.after !== '{' && !READ_PROCEDURES.has(list[i + 1]?.dotted.toLowerCase() ?? '')) return false;
  }
  return removes;
}
