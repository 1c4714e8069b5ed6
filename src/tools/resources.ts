// The caller's graphs as MCP resources: `falkordb://graphs` (the graph list)
// and `falkordb://graphs/{graph}/schema` for each graph, read through the same
// code as falkordb_list_graphs and falkordb_graph_schema (scopes, graph rules,
// the schema cache). Subscriptions are not offered here.

import { ResourceNotFoundError, type Resource, type ResourceTemplateType, type Server } from '@modelcontextprotocol/server';
import type { ToolServices } from './context.js';
import { invalidParams, registerOperation, runOperation, type RequestOf } from './content-call.js';
import { graphNameArg } from './graph-name-arg.js';
import { graphSchemaTool } from './graph-schema.js';
import { listGraphsTool } from './list-graphs.js';
import { GRAPHS_URI, SCHEMA_URI_TEMPLATE, pageAfter, parseResourceUri, schemaUri } from './resource-uri.js';

const JSON_MIME = 'application/json';

/** The list is never announced as changed (a client lists again to see new graphs); `subscribe` is added where a stream can carry updates (tools/index.ts). */
export const RESOURCES_CAPABILITY = { listChanged: false } as const;

/**
 * Cache hints of the 2026-07-28 revision. The graph list and a schema change
 * with any write of the tenant's, so neither may be kept (ttl 0; the
 * gateway's own cache already makes a repeated read cheap). The template
 * changes only with the gateway's version.
 */
export const RESOURCE_CACHE_HINTS = {
  'resources/list': { ttlMs: 0, cacheScope: 'private' },
  'resources/read': { ttlMs: 0, cacheScope: 'private' },
  'resources/templates/list': { ttlMs: 3_600_000, cacheScope: 'private' },
} as const;

const GRAPHS_RESOURCE: Resource = {
  uri: GRAPHS_URI,
  name: 'graphs',
  title: 'Your graphs',
  description: 'The names of your graphs (those you may read), as JSON {"graphs": [...]}: what falkordb_list_graphs gives.',
  mimeType: JSON_MIME,
};

const SCHEMA_TEMPLATE: ResourceTemplateType = {
  uriTemplate: SCHEMA_URI_TEMPLATE,
  name: 'graph-schema',
  title: 'Schema of one of your graphs',
  description:
    'Node labels, relationship types, property keys, indexes and constraints of one of your graphs, as JSON: what falkordb_graph_schema gives. {graph} is the graph name, as falkordb://graphs lists it.',
  mimeType: JSON_MIME,
};

function schemaResource(graph: string): Resource {
  return {
    uri: schemaUri(graph),
    name: `${graph}/schema`,
    title: `Schema of ${graph}`,
    description: `Node labels, relationship types, property keys, indexes and constraints of graph ${graph}, as JSON.`,
    mimeType: JSON_MIME,
  };
}

const LIST = registerOperation('resources/list', {}, (args, ctx, call) => listGraphsTool.run(args, ctx, call));
const READ_GRAPHS = registerOperation('resources/read', {}, (args, ctx, call) => listGraphsTool.run(args, ctx, call));
const READ_SCHEMA = registerOperation('resources/read', { graphName: graphNameArg }, (args, ctx, call) => graphSchemaTool.run(args, ctx, call));

/** A URI that is none of this gateway's resources: the SDK's resource-not-found, `data` exactly `{uri}`. */
function noSuchResource(uri: string): Error {
  const shown = JSON.stringify(uri.length > 80 ? `${uri.slice(0, 80)}…` : uri);
  return new ResourceNotFoundError(uri, `There is no resource ${shown} on this gateway. Its resources are ${GRAPHS_URI} and ${SCHEMA_URI_TEMPLATE} for each of your graphs; resources/list lists them.`);
}

export function registerResources(server: Server, services: ToolServices, requestOf: RequestOf): void {
  server.setRequestHandler('resources/list', async (request, ctx) => {
    const cursor = request.params?.cursor;
    const { structured } = await runOperation(services, requestOf(ctx), LIST, {});
    const paged = pageAfter(structured['graphs'] as string[], cursor);
    if (paged === undefined) throw invalidParams('cursor: not one this gateway gave. List again without a cursor, then pass the nextCursor of each page to get the next.');
    return {
      resources: [...(cursor === undefined ? [GRAPHS_RESOURCE] : []), ...paged.page.map(schemaResource)],
      ...(paged.nextCursor === undefined ? {} : { nextCursor: paged.nextCursor }),
    };
  });

  server.setRequestHandler('resources/templates/list', (_request, ctx) => {
    requestOf(ctx);
    return { resourceTemplates: [SCHEMA_TEMPLATE] };
  });

  server.setRequestHandler('resources/read', async (request, ctx) => {
    const uri = request.params.uri;
    const target = parseResourceUri(uri);
    if (target === undefined) throw noSuchResource(uri);
    const read =
      target.kind === 'graphs'
        ? await runOperation(services, requestOf(ctx), READ_GRAPHS, {}, uri)
        : await runOperation(services, requestOf(ctx), READ_SCHEMA, { graphName: target.graph }, uri);
    return { contents: [{ uri, mimeType: JSON_MIME, text: read.text }] };
  });
}
