// subscriptions/listen on /mcp (the 2026-07-28 revision): one POST opens an
// event stream that carries notifications/resources/updated for the resources
// its filter names, until the client closes it, its token expires or the
// gateway shuts down. It replaces the 2025 revisions' resources/subscribe,
// which needs a session this stateless endpoint does not keep.
//
// The stream, in order: notifications/subscriptions/acknowledged with the part
// of the filter the gateway honours (only `resourceSubscriptions`: no list here
// is announced as changed), then an update each time a watched resource
// changes, each stamped with the subscription id (the listen request's id) in
// `_meta`. A graceful end is the listen request's result. Each URI is checked
// against the caller's rights before the stream opens, as a read of it would
// be; a stream counts against the SSE session caps of its client and tenant,
// and ends when its token is revoked or its tenant disabled (SseSessions checks it every 2 s).

import type { ServerResponse } from 'node:http';
import { ProtocolError, SERVER_INFO_META_KEY, SUBSCRIPTION_ID_META_KEY, type JSONRPCRequest, type RequestId } from '@modelcontextprotocol/server';
import { isGatewayError } from '../errors.js';
import { PRODUCT_ID } from '../product.js';
import { contextOf } from '../tools/call.js';
import type { Caller, ToolServices } from '../tools/context.js';
import type { ContentRequest } from '../tools/content-call.js';
import { MAX_WATCHED_RESOURCES, ResourceWatch, firstReadsOf, listenFilterUris, type WatchStart } from '../tools/resource-watch.js';

/**
 * Admits one long-lived stream of `caller` under the session caps (throws
 * SESSION_LIMIT), where `close` ends it at shutdown and once its token is
 * revoked or its tenant disabled; the function returned gives its place back.
 */
export type StreamAdmission = (caller: Caller, close: () => void) => () => void;

const KEEP_ALIVE_MS = 15_000;
// setTimeout's own ceiling; a stream of a longer token ends at the ceiling and is opened again by its client.
const MAX_TIMER_MS = 2 ** 31 - 1;
const METHOD = 'subscriptions/listen';

function rpcError(res: ServerResponse, id: RequestId, code: number, message: string, data?: Record<string, unknown>): void {
  const text = JSON.stringify({ jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

/** The URIs a listen filter asks to watch; a ProtocolError saying what is wrong with the filter. */
function requestedUris(params: unknown): string[] {
  const unique = listenFilterUris(params);
  if (unique.length > MAX_WATCHED_RESOURCES) {
    throw new ProtocolError(-32602, `notifications.resourceSubscriptions names ${unique.length} resources; one listen stream may watch at most ${MAX_WATCHED_RESOURCES}. Open another stream for the rest.`);
  }
  return unique;
}

/**
 * Answers one subscriptions/listen request of `request`'s caller on `res`. The
 * first read of each resource is a request of the caller's, as resources/read
 * is (the rate, the audit); the later reads are the stream's own.
 */
export async function serveListen(message: JSONRPCRequest, res: ServerResponse, request: ContentRequest, services: ToolServices, admit: StreamAdmission): Promise<void> {
  const { id } = message;
  const { caller } = request;
  let targets: WatchStart[];
  try {
    targets = await firstReadsOf(services, request, METHOD, requestedUris(message.params));
  } catch (error) {
    if (error instanceof ProtocolError) return rpcError(res, id, error.code, error.message, error.data as Record<string, unknown> | undefined);
    throw error;
  }

  const stamp = { [SUBSCRIPTION_ID_META_KEY]: id };
  const honored = targets.length === 0 ? {} : { resourceSubscriptions: targets.map(([uri]) => uri) };
  let open = true;
  const write = (body: unknown) => {
    if (open && !res.writableEnded && !res.destroyed) res.write(`event: message\ndata: ${JSON.stringify(body)}\n\n`);
  };
  const end = (graceful: boolean) => {
    if (!open) return;
    if (graceful) write({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: { ...stamp, [SERVER_INFO_META_KEY]: { name: PRODUCT_ID, version: services.versions.gateway } } } });
    open = false;
    if (!res.writableEnded) res.end();
  };

  // Nothing this gateway can deliver asked for: acknowledged as empty and ended at once, holding no place.
  let release: (() => void) | undefined;
  if (targets.length > 0) {
    try {
      release = admit(caller, () => end(true));
    } catch (error) {
      if (isGatewayError(error)) return rpcError(res, id, -32603, error.message, { code: error.code });
      throw error;
    }
  }
  // Reverse proxies (nginx) buffer responses by default, which would hold every event back.
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
  write({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: honored, _meta: stamp } });
  if (targets.length === 0) {
    end(true);
    return;
  }
  const watch = new ResourceWatch(contextOf(services, caller, request.requestId), METHOD, async (uri) => {
    write({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri, _meta: stamp } });
  });
  const untilExpiry = caller.principal.expiresAt * 1000 - Date.now();
  const expiry = setTimeout(() => end(true), Math.max(0, Math.min(untilExpiry, MAX_TIMER_MS)));
  expiry.unref();
  const keepAlive = setInterval(() => {
    if (open && !res.writableEnded) res.write(': keep-alive\n\n');
  }, KEEP_ALIVE_MS);
  keepAlive.unref();
  res.on('close', () => {
    open = false;
    watch.close();
    clearTimeout(expiry);
    clearInterval(keepAlive);
    release?.();
  });
  for (const [uri, target, seen] of targets) watch.add(uri, target, seen);
}
