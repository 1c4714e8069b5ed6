// The resource URIs the gateway serves, and the pages resources/list answers
// in. Every name in a URI is the caller's own graph name, never a key.

export const GRAPHS_URI = 'falkordb://graphs';
export const SCHEMA_URI_TEMPLATE = 'falkordb://graphs/{graph}/schema';
/** The variable of the schema template, and the argument name the prompts take a graph by. */
export const GRAPH_VARIABLE = 'graph';

export function schemaUri(graph: string): string {
  return `falkordb://graphs/${encodeURIComponent(graph)}/schema`;
}

export type ResourceTarget = { kind: 'graphs' } | { kind: 'schema'; graph: string };

const SCHEMA_URI = /^falkordb:\/\/graphs\/([^/?#]+)\/schema$/;

/** What `uri` names, or undefined when it is none of this gateway's resources. The graph name is not checked here (the read does). */
export function parseResourceUri(uri: string): ResourceTarget | undefined {
  if (uri === GRAPHS_URI || uri === `${GRAPHS_URI}/`) return { kind: 'graphs' };
  const match = SCHEMA_URI.exec(uri);
  if (match === null) return undefined;
  try {
    return { kind: 'schema', graph: decodeURIComponent(match[1]!) };
  } catch {
    // Not percent-encoding that decodes: no graph can have that name.
    return undefined;
  }
}

/** How many graphs' schemas one resources/list page lists. */
export const RESOURCE_PAGE_SIZE = 100;

/**
 * The page of `names` (sorted) after `cursor`: the cursor is the last name of
 * the page before, so a stateless gateway needs nothing but the cursor itself,
 * and a graph created or deleted between two pages moves no other name.
 * Returns undefined for a cursor this gateway cannot have given.
 */
export function pageAfter(names: readonly string[], cursor: string | undefined, size = RESOURCE_PAGE_SIZE): { page: string[]; nextCursor?: string } | undefined {
  let after: string | undefined;
  if (cursor !== undefined) {
    after = decodeCursor(cursor);
    if (after === undefined) return undefined;
  }
  const sorted = [...names].sort(byCodePoint);
  const start = after === undefined ? 0 : sorted.findIndex((name) => byCodePoint(name, after) > 0);
  const from = start === -1 ? sorted.length : start;
  const page = sorted.slice(from, from + size);
  const more = from + size < sorted.length;
  return more ? { page, nextCursor: encodeCursor(page[page.length - 1]!) } : { page };
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const CURSOR_PREFIX = 'after:';

function encodeCursor(name: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${name}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith(CURSOR_PREFIX) && text.length > CURSOR_PREFIX.length ? text.slice(CURSOR_PREFIX.length) : undefined;
}
