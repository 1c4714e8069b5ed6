// Watching the caller's resources for changes: what resources/subscribe (2025
// revisions, an SSE session or stdio) and subscriptions/listen (2026-07-28, on
// /mcp) both stand on. Two kinds of URI:
//
//   falkordb://graphs                  the caller's graph list: a graph created or deleted
//   falkordb://graphs/{graph}/schema   that graph's schema: a label, relationship type, property key, index or constraint added or removed
//
// A watch reads what it holds every RESOURCE_POLL_MS through the caller's own
// graph operations (the same tenancy, scopes, graph rules and cache as the
// tools), and says `updated` when the graph names or the schema's names differ
// from what it saw last. Through the cache a read that finds nothing new costs
// one version-token lookup; the tokens are bumped by every change made through
// any gateway instance or the CLI, so those changes are seen on every instance.
// A write sent to the database server directly, past every gateway, is seen
// only once the cached entry's token changes or expires.

import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { isGatewayError } from '../errors.js';
import { scrubForTenant } from '../tenancy/scrub.js';
import type { CallFacts, ToolContext } from './context.js';
import { authorizeGraph } from './graph-name-arg.js';
import { graphSchemaTool } from './graph-schema.js';
import { listGraphsTool } from './list-graphs.js';

export const GRAPHS_URI = 'falkordb://graphs';
const SCHEMA_URI = /^falkordb:\/\/graphs\/([^/?#]+)\/schema$/;

/** Resources one session (or one listen stream) may watch at once: each costs a read every poll. */
export const MAX_WATCHED_RESOURCES = 32;

/** How often watched resources are read again. */
export const RESOURCE_POLL_MS = 2000;

export type WatchTarget = { kind: 'graphs' } | { kind: 'schema'; graph: string };

function invalid(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, message);
}

/** What `uri` names; an invalid-params error naming the two kinds when it is neither. */
export function watchTargetOf(uri: string): WatchTarget {
  if (uri === GRAPHS_URI) return { kind: 'graphs' };
  const match = SCHEMA_URI.exec(uri);
  if (match?.[1] !== undefined) {
    let graph: string;
    try {
      graph = decodeURIComponent(match[1]);
    } catch {
      throw invalid(`"${uri}" is not a resource of this gateway: the graph name is not valid percent-encoding.`);
    }
    return { kind: 'schema', graph };
  }
  throw invalid(`"${uri}" is not a resource this gateway can watch. Watch ${GRAPHS_URI} (your graph list) or falkordb://graphs/{graph}/schema (one graph's schema).`);
}

function factsOf(what: string, target: WatchTarget): CallFacts {
  return { tool: what, callerInput: target.kind === 'schema' ? target.graph : '' };
}

/**
 * Checks that the caller may read what `uri` names, as a read of it would:
 * another tenant's graph is the same "does not exist" as any missing name.
 * `what`: the method the check is for, as the audit and messages name it.
 */
export async function authorizeWatch(ctx: ToolContext, uri: string, target: WatchTarget, what: string): Promise<void> {
  try {
    if (target.kind === 'schema') await authorizeGraph(ctx, target.graph, 'read', 'Watching a graph schema');
    else await listGraphsTool.run({}, ctx, factsOf(what, target));
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    throw invalid(scrubForTenant(error.message, ctx.principal.tenant, { callerInput: uri }));
  }
}

/** The parts of falkordb_graph_schema's result a watch compares. */
interface SchemaNames {
  labels: Array<{ name: string; properties: string[] }>;
  relationshipTypes: Array<{ name: string; properties: string[] }>;
  propertyKeys: string[];
  indexes: string[];
  constraints: Array<{ kind: string; entity: string; label: string; properties: string[]; status: string }>;
}

/** What a watch compares between two reads; undefined when it could not be read this time. */
export async function fingerprint(ctx: ToolContext, target: WatchTarget, what: string): Promise<string | undefined> {
  const facts = factsOf(what, target);
  try {
    if (target.kind === 'graphs') {
      const { graphs } = (await listGraphsTool.run({}, ctx, facts)) as { graphs: string[] };
      return JSON.stringify([...graphs].sort());
    }
    const schema = (await graphSchemaTool.run({ graphName: target.graph }, ctx, facts)) as unknown as SchemaNames;
    // Names only: counts change with every write, which is not a change of schema.
    return JSON.stringify([
      schema.labels.map((l) => [l.name, [...l.properties].sort()]).sort(),
      schema.relationshipTypes.map((t) => [t.name, [...t.properties].sort()]).sort(),
      [...schema.propertyKeys].sort(),
      [...schema.indexes].sort(),
      schema.constraints.map((c) => [c.kind, c.entity, c.label, c.properties, c.status]).sort(),
    ]);
  } catch (error) {
    if (isGatewayError(error) && error.code === 'GRAPH_NOT_FOUND') return 'absent';
    return undefined;
  }
}

interface Watched {
  target: WatchTarget;
  /** What was seen last; undefined until a first read succeeded. */
  seen: string | undefined;
}

/**
 * A set of watched URIs of one caller, read again every `pollMs` while it holds
 * any; `updated(uri)` is awaited for each that changed. One read at a time:
 * a poll that finds the previous one still running is skipped.
 */
export class ResourceWatch {
  readonly #ctx: ToolContext;
  readonly #what: string;
  readonly #updated: (uri: string) => Promise<void>;
  readonly #pollMs: number;
  readonly #watched = new Map<string, Watched>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #closed = false;

  constructor(ctx: ToolContext, what: string, updated: (uri: string) => Promise<void>, pollMs = RESOURCE_POLL_MS) {
    this.#ctx = ctx;
    this.#what = what;
    this.#updated = updated;
    this.#pollMs = pollMs;
  }

  get size(): number {
    return this.#watched.size;
  }

  has(uri: string): boolean {
    return this.#watched.has(uri);
  }

  /** Starts watching `uri` (already checked with authorizeWatch), from what it is now. */
  async add(uri: string, target: WatchTarget): Promise<void> {
    if (this.#closed) return;
    const watched: Watched = { target, seen: await fingerprint(this.#ctx, target, this.#what) };
    if (this.#closed) return;
    this.#watched.set(uri, watched);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#poll(), this.#pollMs);
      this.#timer.unref();
    }
  }

  delete(uri: string): void {
    this.#watched.delete(uri);
    if (this.#watched.size === 0) this.#stopTimer();
  }

  close(): void {
    this.#closed = true;
    this.#watched.clear();
    this.#stopTimer();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      for (const [uri, watched] of [...this.#watched]) {
        const now = await fingerprint(this.#ctx, watched.target, this.#what);
        if (this.#closed) return;
        if (now === undefined || this.#watched.get(uri) !== watched) continue;
        const changed = watched.seen !== undefined && now !== watched.seen;
        watched.seen = now;
        if (changed) await this.#updated(uri).catch(() => undefined);
      }
    } finally {
      this.#polling = false;
    }
  }
}
