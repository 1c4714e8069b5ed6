// Keys of the gateway's in-memory caches. Every key starts with the tenant id
// taken from the caller's verified token, so no lookup of one tenant can ever
// find an entry another tenant stored.

/**
 * One canonical text for a JSON value: object keys sorted, arrays in order,
 * strings and numbers as JSON writes them. Two values get the same text exactly
 * when FalkorDB would see the same parameters. Undefined for anything that is
 * not plain JSON (NaN, undefined, functions, class instances), which the
 * database refuses anyway: such a call is never looked up in, or stored into, a cache.
 */
export function canonicalJson(value: unknown, depth = 0): string | undefined {
  // Deeper than any parameter FalkorDB accepts (src/falkordb/params.ts); not worth a cache entry.
  if (depth > 64) return undefined;
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      // -0 and 0 reach FalkorDB as the same text (String(-0) is "0").
      return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case 'object': {
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (const item of value) {
          const text = canonicalJson(item, depth + 1);
          if (text === undefined) return undefined;
          items.push(text);
        }
        return `[${items.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return undefined;
      const entries: string[] = [];
      for (const name of Object.keys(value).sort()) {
        const text = canonicalJson((value as Record<string, unknown>)[name], depth + 1);
        if (text === undefined) return undefined;
        entries.push(`${JSON.stringify(name)}:${text}`);
      }
      return `{${entries.join(',')}}`;
    }
    default:
      return undefined;
  }
}

export interface QueryCacheKeyInput {
  /** From the caller's verified token, never from the request. */
  tenant: string;
  graph: string;
  query: string;
  params: Record<string, unknown> | undefined;
  /** Part of the key because it decides which rows a result holds. */
  maxRows: number;
}

/**
 * The result-cache key of one read-only query, or undefined when the call
 * cannot be cached. A JSON array of its parts, so no choice of graph name,
 * query text or parameters can make two different calls share a key.
 */
export function queryCacheKey(input: QueryCacheKeyInput): string | undefined {
  const params = input.params === undefined ? '{}' : canonicalJson(input.params);
  if (params === undefined) return undefined;
  return JSON.stringify(['query', input.tenant, input.graph, input.maxRows, input.query, params]);
}

/** The cache key of a graph's schema. */
export function schemaCacheKey(tenant: string, graph: string): string {
  return JSON.stringify(['schema', tenant, graph]);
}

/** The cache key of a tenant's graph list. */
export function graphListCacheKey(tenant: string): string {
  return JSON.stringify(['graphs', tenant]);
}
