// Watching the caller's resources for changes: what resources/subscribe (2025
// revisions, an SSE session or stdio) and subscriptions/listen (2026-07-28, on
// /mcp) both stand on. Two kinds of URI:
//
//   falkordb://graphs                  the caller's graph list: a graph created or deleted
//   falkordb://graphs/{graph}/schema   that graph's schema: a label, relationship type, property key, index or constraint added or removed
//
// Starting to watch is a request of the client's like resources/read (the
// tenant's rate, scopes, graph rules, the audit under the method's name) and is
// refused as a read would be: a graph the caller does not have, whoever else
// has one of that name, is resource-not-found. A graph deleted while watched
// is announced, and stays watched.
//
// A watch then reads what it holds every RESOURCE_POLL_MS through the caller's own
// graph operations (the same tenancy, scopes, graph rules and cache as the
// tools), and says `updated` when the graph names or the schema's names differ
// from what it saw last. Through the cache a read that finds nothing new costs
// one version-token lookup; the tokens are bumped by every change made through
// any gateway instance or the CLI, so those changes are seen on every instance.
// A write sent to the database server directly, past every gateway, is seen
// only once the cached entry's token changes or expires. Those later reads are
// the watch's own, not requests: not counted against the rate, not audited.

import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { isGatewayError } from '../errors.js';
import type { RegisteredTool } from './call.js';
import { registerOperation, runOperation, type ContentRequest } from './content-call.js';
import type { CallFacts, ToolContext, ToolServices } from './context.js';
import { graphNameArg } from './graph-name-arg.js';
import { graphSchemaTool } from './graph-schema.js';
import { listGraphsTool } from './list-graphs.js';
import { GRAPHS_URI, parseResourceUri, type ResourceTarget } from './resource-uri.js';

/** Resources one session (or one listen stream) may watch at once: each costs a read every poll. */
export const MAX_WATCHED_RESOURCES = 32;

/** How often watched resources are read again. */
export const RESOURCE_POLL_MS = 2000;

/** The methods that start watching: the audit and the rate count the first read under them. */
export type WatchMethod = 'resources/subscribe' | 'subscriptions/listen';

const LOOKS_LIKE_SCHEMA = /^falkordb:\/\/graphs\/[^/?#]+\/schema$/;

/** What `uri` names; an invalid-params error saying what to watch instead when it is none of the resources. */
export function watchTargetOf(uri: string): ResourceTarget {
  const target = parseResourceUri(uri);
  if (target !== undefined) return target;
  if (LOOKS_LIKE_SCHEMA.test(uri)) {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `"${uri}" is not a resource of this gateway: the graph name is not valid percent-encoding.`);
  }
  throw new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `"${uri}" is not a resource this gateway can watch. Subscribe to ${GRAPHS_URI} (your graph list) or falkordb://graphs/{graph}/schema (one graph's schema).`,
  );
}

/** The URIs a subscriptions/listen request's filter (`params.notifications`) names, once each; a ProtocolError when it is no filter. */
export function listenFilterUris(params: unknown): string[] {
  const filter = (params as { notifications?: unknown } | undefined)?.notifications;
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'subscriptions/listen needs params.notifications, a filter such as {"resourceSubscriptions": ["falkordb://graphs"]}.');
  }
  const uris = (filter as { resourceSubscriptions?: unknown }).resourceSubscriptions;
  if (uris === undefined) return [];
  if (!Array.isArray(uris) || !uris.every((u): u is string => typeof u === 'string')) {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'notifications.resourceSubscriptions must be a list of resource URIs.');
  }
  return [...new Set(uris)];
}

/** The parts of falkordb_graph_schema's result a watch compares. */
interface SchemaNames {
  labels: Array<{ name: string; properties: string[] }>;
  relationshipTypes: Array<{ name: string; properties: string[] }>;
  propertyKeys: string[];
  indexes: string[];
  constraints: Array<{ kind: string; entity: string; label: string; properties: string[]; status: string }>;
}

/** What a watch compares between two reads of `read` (the graph list, or a schema). */
function namesOf(target: ResourceTarget, read: Record<string, unknown>): string {
  if (target.kind === 'graphs') return JSON.stringify([...(read['graphs'] as string[])].sort());
  const schema = read as unknown as SchemaNames;
  // Names only: counts change with every write, which is not a change of schema.
  return JSON.stringify([
    schema.labels.map((l) => [l.name, [...l.properties].sort()]).sort(),
    schema.relationshipTypes.map((t) => [t.name, [...t.properties].sort()]).sort(),
    [...schema.propertyKeys].sort(),
    [...schema.indexes].sort(),
    schema.constraints.map((c) => [c.kind, c.entity, c.label, c.properties, c.status]).sort(),
  ]);
}

function firstReads(method: WatchMethod): { graphs: RegisteredTool; schema: RegisteredTool } {
  return {
    graphs: registerOperation(method, {}, (args, ctx, call) => listGraphsTool.run(args, ctx, call)),
    schema: registerOperation(method, { graphName: graphNameArg }, (args, ctx, call) => graphSchemaTool.run(args, ctx, call)),
  };
}

const FIRST_READS: Record<WatchMethod, { graphs: RegisteredTool; schema: RegisteredTool }> = {
  'resources/subscribe': firstReads('resources/subscribe'),
  'subscriptions/listen': firstReads('subscriptions/listen'),
};

/**
 * The first read of a resource to watch, as a request of `request`'s caller
 * under `method`: what a watch starts from. Throws the JSON-RPC error a
 * resources/read of `uri` would get.
 */
export async function firstRead(services: ToolServices, request: ContentRequest, method: WatchMethod, uri: string, target: ResourceTarget): Promise<string> {
  const reads = FIRST_READS[method];
  const read =
    target.kind === 'graphs'
      ? await runOperation(services, request, reads.graphs, {}, uri)
      : await runOperation(services, request, reads.schema, { graphName: target.graph }, uri);
  return namesOf(target, read.structured);
}

/** A resource to watch: its URI, what it names, and what its first read saw. */
export type WatchStart = [uri: string, target: ResourceTarget, seen: string];

/** Checks every URI (watchTargetOf), then reads each one first (firstRead), in order; throws the first refusal. */
export async function firstReadsOf(services: ToolServices, request: ContentRequest, method: WatchMethod, uris: readonly string[]): Promise<WatchStart[]> {
  const named = uris.map((uri) => [uri, watchTargetOf(uri)] as const);
  const starts: WatchStart[] = [];
  for (const [uri, target] of named) starts.push([uri, target, await firstRead(services, request, method, uri, target)]);
  return starts;
}

/** A later read, by the watch's clock rather than a request: undefined when it could not be read this time. */
async function fingerprint(ctx: ToolContext, target: ResourceTarget, method: WatchMethod): Promise<string | undefined> {
  const facts: CallFacts = { tool: method, callerInput: target.kind === 'schema' ? target.graph : '' };
  try {
    const read = target.kind === 'graphs' ? await listGraphsTool.run({}, ctx, facts) : await graphSchemaTool.run({ graphName: target.graph }, ctx, facts);
    return namesOf(target, read);
  } catch (error) {
    if (isGatewayError(error) && error.code === 'GRAPH_NOT_FOUND') return 'absent';
    return undefined;
  }
}

interface Watched {
  target: ResourceTarget;
  /** What was seen last; undefined while no read has succeeded. */
  seen: string | undefined;
}

/**
 * A set of watched URIs of one caller, read again every `pollMs` while it holds
 * any; `updated(uri)` is awaited for each that changed. One read at a time:
 * a poll that finds the previous one still running is skipped.
 */
export class ResourceWatch {
  readonly #ctx: ToolContext;
  readonly #method: WatchMethod;
  readonly #updated: (uri: string) => Promise<void>;
  readonly #pollMs: number;
  readonly #watched = new Map<string, Watched>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #closed = false;

  /** `ctx`: the caller's handles the later reads run with. */
  constructor(ctx: ToolContext, method: WatchMethod, updated: (uri: string) => Promise<void>, pollMs = RESOURCE_POLL_MS) {
    this.#ctx = ctx;
    this.#method = method;
    this.#updated = updated;
    this.#pollMs = pollMs;
  }

  get size(): number {
    return this.#watched.size;
  }

  has(uri: string): boolean {
    return this.#watched.has(uri);
  }

  /** Starts watching `uri` from `seen`, what its first read (firstRead) gave. */
  add(uri: string, target: ResourceTarget, seen: string): void {
    if (this.#closed) return;
    this.#watched.set(uri, { target, seen });
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
        const now = await fingerprint(this.#ctx, watched.target, this.#method);
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
