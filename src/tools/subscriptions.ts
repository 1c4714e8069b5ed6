// Resource subscriptions (resources/subscribe, resources/unsubscribe,
// notifications/resources/updated) on a server bound to one caller of the 2025
// revisions: an SSE session or stdio, whose stream can carry a notification at
// any time. Two kinds of URI:
//
//   falkordb://graphs                  the caller's graph list: a graph created or deleted
//   falkordb://graphs/{graph}/schema   that graph's schema: a label, relationship type, property key, index or constraint added or removed
//
// resources/subscribe itself is a request like resources/read (tenant rate,
// scopes, graph rules, audit under its method) and is refused as a read would be:
// a graph the caller does not have (whoever else has one of that name) is
// resource-not-found. A graph deleted while watched is announced, and stays watched.
//
// The session reads what it subscribed to every SUBSCRIPTION_POLL_MS through the
// caller's own graph operations (the same tenancy, scopes, graph rules and cache as
// the tools), and says `updated` when the graph names or the schema's names
// differ from what it saw last. Through the cache a read that finds nothing new
// costs one version-token lookup; the tokens are bumped by every change made through
// any gateway instance or the CLI, so those changes are seen on every instance.
// A write sent to the database server directly, past every gateway, is seen only
// once the cached entry's token changes or expires.
//
// Those polls are the session's, not requests: not counted against the rate, not audited.
//
// Not offered on stateless /mcp: in the 2025 revisions it keeps no session
// whose stream could carry a later notification, and in 2026-07-28
// resources/subscribe is gone (subscriptions/listen replaces it, which the SDK
// this gateway runs on does not deliver yet). /mcp of the 2025 revisions answers
// it method-not-found in words that say where it is offered (refuseSubscriptions).

import { ProtocolError, ProtocolErrorCode, type McpServer, type Server } from '@modelcontextprotocol/server';
import { isGatewayError } from '../errors.js';
import { contextOf } from './call.js';
import { registerOperation, runOperation, type RequestOf } from './content-call.js';
import type { Caller, CallFacts, ToolContext, ToolServices } from './context.js';
import { graphNameArg } from './graph-name-arg.js';
import { graphSchemaTool } from './graph-schema.js';
import { listGraphsTool } from './list-graphs.js';

export const GRAPHS_URI = 'falkordb://graphs';
const SCHEMA_URI = /^falkordb:\/\/graphs\/([^/?#]+)\/schema$/;

/** Subscriptions one session may hold at once: each costs a read every poll. */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 32;

/** How often a session's subscriptions are read again. */
export const SUBSCRIPTION_POLL_MS = 2000;

type Target = { kind: 'graphs' } | { kind: 'schema'; graph: string };

interface Subscription {
  target: Target;
  /** What was seen last; undefined until a first read succeeded. */
  seen: string | undefined;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, message);
}

function tooMany(): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidRequest,
    `This session already has ${MAX_SUBSCRIPTIONS_PER_SESSION} resource subscriptions, the most one session may hold. Unsubscribe from one it no longer needs (resources/unsubscribe) first.`,
  );
}

function targetOf(uri: string): Target {
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
  throw invalid(`"${uri}" is not a resource this gateway can watch. Subscribe to ${GRAPHS_URI} (your graph list) or falkordb://graphs/{graph}/schema (one graph's schema).`);
}

/** The parts of falkordb_graph_schema's result a subscription compares. */
interface SchemaNames {
  labels: Array<{ name: string; properties: string[] }>;
  relationshipTypes: Array<{ name: string; properties: string[] }>;
  propertyKeys: string[];
  indexes: string[];
  constraints: Array<{ kind: string; entity: string; label: string; properties: string[]; status: string }>;
}

/** What a subscription compares between two reads of `read` (the graph list, or a schema). */
function namesOf(target: Target, read: Record<string, unknown>): string {
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

// The first read, when the client subscribes, is a request of the client's like
// resources/read: admitted against the tenant's rate, audited, and refused as
// resources/read refuses it (a graph that does not exist is resource-not-found).
const SUBSCRIBE_GRAPHS = registerOperation('resources/subscribe', {}, (args, ctx, call) => listGraphsTool.run(args, ctx, call));
const SUBSCRIBE_SCHEMA = registerOperation('resources/subscribe', { graphName: graphNameArg }, (args, ctx, call) => graphSchemaTool.run(args, ctx, call));

/** A later read, by the session's clock rather than a request: undefined when it could not be read this time. */
async function fingerprint(ctx: ToolContext, target: Target): Promise<string | undefined> {
  const facts: CallFacts = { tool: 'resources/subscribe', callerInput: target.kind === 'schema' ? target.graph : '' };
  try {
    const read = target.kind === 'graphs' ? await listGraphsTool.run({}, ctx, facts) : await graphSchemaTool.run({ graphName: target.graph }, ctx, facts);
    return namesOf(target, read);
  } catch (error) {
    if (isGatewayError(error) && error.code === 'GRAPH_NOT_FOUND') return 'absent';
    return undefined;
  }
}

/**
 * Offers resources/subscribe and resources/unsubscribe on `server`, bound to
 * `caller`, and sends notifications/resources/updated on its stream. Call
 * before the server connects (it declares `resources: {subscribe: true}`).
 */
export function registerSubscriptions(server: McpServer, services: ToolServices, caller: Caller, requestOf: RequestOf): void {
  const lowLevel = server.server;
  lowLevel.registerCapabilities({ resources: { subscribe: true } });
  const subscriptions = new Map<string, Subscription>();
  const ctx = contextOf(services, caller, 'subscriptions');
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let closed = false;

  const poll = async () => {
    if (polling || closed) return;
    polling = true;
    try {
      for (const [uri, subscription] of [...subscriptions]) {
        const now = await fingerprint(ctx, subscription.target);
        if (closed) return;
        if (now === undefined || subscriptions.get(uri) !== subscription) continue;
        const changed = subscription.seen !== undefined && now !== subscription.seen;
        subscription.seen = now;
        if (changed) await lowLevel.sendResourceUpdated({ uri }).catch(() => undefined);
      }
    } finally {
      polling = false;
    }
  };
  const stop = () => {
    closed = true;
    clearInterval(timer);
    timer = undefined;
    subscriptions.clear();
  };

  lowLevel.setRequestHandler('resources/subscribe', async (request, requestCtx) => {
    const { uri } = request.params;
    if (subscriptions.has(uri)) return {};
    if (subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SESSION) throw tooMany();
    const target = targetOf(uri);
    const read =
      target.kind === 'graphs'
        ? await runOperation(services, requestOf(requestCtx), SUBSCRIBE_GRAPHS, {}, uri)
        : await runOperation(services, requestOf(requestCtx), SUBSCRIBE_SCHEMA, { graphName: target.graph }, uri);
    if (closed || subscriptions.has(uri)) return {};
    if (subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SESSION) throw tooMany();
    const subscription: Subscription = { target, seen: namesOf(target, read.structured) };
    subscriptions.set(uri, subscription);
    if (timer === undefined && !closed) {
      timer = setInterval(() => void poll(), SUBSCRIPTION_POLL_MS);
      timer.unref();
    }
    return {};
  });

  lowLevel.setRequestHandler('resources/unsubscribe', (request) => {
    subscriptions.delete(request.params.uri);
    if (subscriptions.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
    return {};
  });

  const previous = lowLevel.onclose;
  lowLevel.onclose = () => {
    stop();
    previous?.();
  };
}

/**
 * On stateless /mcp of the 2025 revisions (no subscribe capability declared):
 * resources/subscribe is still method-not-found, in words that say where it is offered.
 */
export function refuseSubscriptions(server: Server): void {
  const refuse = (): never => {
    throw new ProtocolError(
      ProtocolErrorCode.MethodNotFound,
      `Resource subscriptions are not offered on /mcp: it keeps no session whose stream could carry a later notification. Subscribe over an SSE session (/sse) or stdio, or read ${GRAPHS_URI} and the schemas again when you need them.`,
    );
  };
  server.setRequestHandler('resources/subscribe', refuse);
  server.setRequestHandler('resources/unsubscribe', refuse);
}
