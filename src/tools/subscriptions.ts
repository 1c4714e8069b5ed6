// Resource subscriptions (resources/subscribe, resources/unsubscribe,
// notifications/resources/updated) on a server bound to one caller of the 2025
// revisions: an SSE session or stdio, whose stream can carry a notification at
// any time. What is watched, and how, is tools/resource-watch.ts.
//
// Not offered on stateless /mcp: in the 2025 revisions it keeps no session
// whose stream could carry a later notification, and in 2026-07-28
// resources/subscribe is gone: subscriptions/listen replaces it, served on /mcp
// by http/subscriptions-listen.ts. /mcp of the 2025 revisions answers
// it method-not-found in words that say where it is offered (refuseSubscriptions).

import { ProtocolError, ProtocolErrorCode, type McpServer, type Server } from '@modelcontextprotocol/server';
import { contextOf } from './call.js';
import type { RequestOf } from './content-call.js';
import type { Caller, ToolServices } from './context.js';
import { GRAPHS_URI } from './resource-uri.js';
import { MAX_WATCHED_RESOURCES, ResourceWatch, firstRead, watchTargetOf } from './resource-watch.js';

function tooMany(): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidRequest,
    `This session already has ${MAX_WATCHED_RESOURCES} resource subscriptions, the most one session may hold. Unsubscribe from one it no longer needs (resources/unsubscribe) first.`,
  );
}

/**
 * Offers resources/subscribe and resources/unsubscribe on `server`, bound to
 * `caller`, and sends notifications/resources/updated on its stream. Call
 * before the server connects (it declares `resources: {subscribe: true}`).
 */
export function registerSubscriptions(server: McpServer, services: ToolServices, caller: Caller, requestOf: RequestOf): void {
  const lowLevel = server.server;
  lowLevel.registerCapabilities({ resources: { subscribe: true } });
  const watch = new ResourceWatch(contextOf(services, caller, 'subscriptions'), 'resources/subscribe', (uri) => lowLevel.sendResourceUpdated({ uri }));
  let closed = false;

  lowLevel.setRequestHandler('resources/subscribe', async (request, requestCtx) => {
    const { uri } = request.params;
    if (watch.has(uri)) return {};
    if (watch.size >= MAX_WATCHED_RESOURCES) throw tooMany();
    const target = watchTargetOf(uri);
    const seen = await firstRead(services, requestOf(requestCtx), 'resources/subscribe', uri, target);
    if (closed || watch.has(uri)) return {};
    if (watch.size >= MAX_WATCHED_RESOURCES) throw tooMany();
    watch.add(uri, target, seen);
    return {};
  });

  lowLevel.setRequestHandler('resources/unsubscribe', (request) => {
    watch.delete(request.params.uri);
    return {};
  });

  const previous = lowLevel.onclose;
  lowLevel.onclose = () => {
    closed = true;
    watch.close();
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
      `Resource subscriptions are not offered on /mcp in the 2025 revisions: it keeps no session whose stream could carry a later notification. Subscribe over an SSE session (/sse) or stdio, or use subscriptions/listen on /mcp in 2026-07-28, or read ${GRAPHS_URI} and the schemas again when you need them.`,
    );
  };
  server.setRequestHandler('resources/subscribe', refuse);
  server.setRequestHandler('resources/unsubscribe', refuse);
}
