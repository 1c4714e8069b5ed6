// MCP Streamable HTTP on /mcp, stateless: every POST carries its own token, so
// any instance can serve any request. Two long-lived MCP servers per gateway
// answer every caller (their multiplexers keep callers' ids and contexts apart):
// one for the 2025 revisions (initialize, then requests), one for the
// 2026-07-28 revision (no initialize: each request carries its protocol version
// and client capabilities in `_meta`, and server/discover says what the gateway
// offers). The SDK's classifier decides which revision a POST speaks; the
// checks and status codes are those of the SDK's own HTTP entry in JSON
// response mode, without building a server, a transport and web
// Request/Response objects per request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  LOG_LEVEL_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
  classifyInboundRequest,
  isJsonContentType,
  parseJSONRPCMessage,
  type InboundModernRoute,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type McpServer,
  type MessageExtraInfo,
} from '@modelcontextprotocol/server';
import type { Caller, ToolServices } from '../tools/context.js';
import { MODERN_PROTOCOL_VERSION, callToolDirectly, callerAuthInfo, createSharedMcpServer, plainToolCall } from '../tools/index.js';
import { CallerMultiplexer, ModernCallerMultiplexer, isCancelledReply, isRequest, type Delivery, type Multiplexer } from './caller-multiplexer.js';
import { standardHeaderMismatch } from './standard-headers.js';
import { serveListen, type StreamAdmission } from './subscriptions-listen.js';

export interface StreamableEndpoint {
  /** Answers one POST to /mcp whose caller is admitted and whose body is parsed. */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown, caller: Caller): Promise<void>;
}

/** The most messages one POST may batch (the SDK's HTTP transport allows as many). */
const MAX_BATCH_SIZE = 100;

interface Served {
  transport: Multiplexer;
  connected: Promise<void>;
}

function serve(server: McpServer, transport: Multiplexer): Served {
  return { transport, connected: server.connect(transport) };
}

/** `admitStream`: admits a subscriptions/listen stream under the SSE session caps and their rechecks. */
export function createStreamableEndpoint(tools: ToolServices, admitStream: StreamAdmission): StreamableEndpoint {
  // The 2025 server remembers the client info and capabilities of the last caller's
  // initialize. Nothing reads them; code that ever does must not use this server,
  // or one tenant would see another's client details.
  const legacy = serve(createSharedMcpServer(tools, 'legacy'), new CallerMultiplexer());
  const modern = serve(createSharedMcpServer(tools, 'modern'), new ModernCallerMultiplexer(MODERN_PROTOCOL_VERSION));

  return {
    async handle(req, res, body, caller) {
      if (!acceptable(req, res)) return;
      const requestIdHeader = req.headers['x-request-id'];
      const requestId = typeof requestIdHeader === 'string' ? requestIdHeader : undefined;
      // What the servers' handlers learn of the request (its caller, the id of the HTTP request); not needed on the direct path.
      const extraOf = (): MessageExtraInfo => ({ authInfo: callerAuthInfo(caller, requestId, req.headers) });
      // A cancellation names a request by the caller's own id: it may only reach requests of the same caller.
      const scope = JSON.stringify([caller.principal.tenant, caller.principal.subject, caller.principal.device ?? caller.principal.jti ?? '']);
      const route = plainLegacyRequest(req, body)
        ? LEGACY
        : classifyInboundRequest({
            httpMethod: 'POST',
            ...header(req, 'mcp-protocol-version', 'protocolVersionHeader'),
            ...header(req, 'mcp-method', 'mcpMethodHeader'),
            ...header(req, 'mcp-name', 'mcpNameHeader'),
            body,
          });
      if (route.kind === 'reject') {
        writeError(res, route.httpStatus, route.code, route.message, route.data, echoableId(body));
        return;
      }
      if (route.kind === 'modern') {
        await serveModern(modern, route, req, res, extraOf(), scope, (message) => serveListen(message, res, { caller, requestId: requestId ?? 'rpc-listen', headers: req.headers }, tools, admitStream));
        return;
      }
      if (route === LEGACY) {
        // The common case, a plain tools/call of a 2025 client, is run without the SDK's dispatch.
        const message = body as { id?: string | number; method: string; params?: unknown };
        const call = message.method === 'tools/call' && message.id !== undefined ? plainToolCall(message.params) : undefined;
        if (call !== undefined) {
          const reply = await answerDirectly(message.id as string | number, () => callToolDirectly(tools, caller, requestId, call, req.headers));
          if (!res.destroyed) writeJson(res, 200, reply);
          return;
        }
      }
      const messages = legacyMessages(req, res, body);
      if (messages === undefined) return;
      const extra = extraOf();
      await legacy.connected;
      if (!messages.some(isRequest)) {
        // Notifications (and responses) only: accepted, nothing to answer.
        void legacy.transport.deliver(messages, extra, { scope });
        res.writeHead(202).end();
        return;
      }
      // One request that asked for progress may get its notifications ahead of its reply, as an event stream.
      const single = messages.length === 1 ? messages[0] : undefined;
      const stream = single !== undefined && isRequest(single) && progressTokenIn(single.params) ? new ReplyStream(res) : undefined;
      const replies = await legacy.transport.deliver(messages, extra, { scope, onNotification: stream?.notify });
      if (res.destroyed) return;
      if (stream !== undefined && replies[0] !== undefined) stream.finish(replies[0], 200);
      else writeJson(res, 200, replies.length === 1 ? replies[0] : replies);
    },
  };
}

const LEGACY = { kind: 'legacy' } as const;

/**
 * Whether the SDK's classifier would route this POST to the 2025 revisions
 * without a doubt, told without running it (it parses the body against the
 * JSON-RPC schemas, a few per cent of a call's CPU): one request or
 * notification object whose params carry no `_meta` at all (so no envelope
 * claim, valid or not) and whose MCP-Protocol-Version header, if any, names a
 * 2025 revision. Everything else goes to the classifier.
 * (src/http/streamable.test.ts checks both agree.)
 */
export function plainLegacyRequest(req: { headers: IncomingMessage['headers'] }, body: unknown): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const message = body as Record<string, unknown>;
  if (message['jsonrpc'] !== '2.0' || typeof message['method'] !== 'string' || message['method'] === '') return false;
  if ('id' in message && typeof message['id'] !== 'string' && !Number.isSafeInteger(message['id'])) return false;
  if ('params' in message) {
    const params = message['params'];
    if (params === null || typeof params !== 'object' || Array.isArray(params) || '_meta' in params) return false;
  }
  const version = req.headers['mcp-protocol-version'];
  return version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version));
}

/** The JSON-RPC reply to request `id` whose result `run` makes; a failure is an internal error, as the SDK's server answers one. */
async function answerDirectly(id: string | number, run: () => Promise<unknown>): Promise<JSONRPCResponse> {
  try {
    return { jsonrpc: '2.0', id, result: (await run()) as Record<string, unknown> };
  } catch (error) {
    return { jsonrpc: '2.0', id, error: { code: -32603, message: error instanceof Error ? error.message : 'Internal error' } };
  }
}

/**
 * The reply of one request, as JSON, or as an event stream once a notification
 * about it is sent before it (progress, a log message): the stream opens at the
 * first one, so a request that sends none is answered as plain JSON.
 */
class ReplyStream {
  readonly #res: ServerResponse;
  #open = false;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  readonly notify: NonNullable<Delivery['onNotification']> = (notification) => {
    if (this.#res.destroyed || this.#res.writableEnded) return;
    if (!this.#open) {
      this.#open = true;
      // Reverse proxies (nginx) buffer responses by default, which would hold every event back.
      this.#res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
    }
    this.#res.write(`event: message\ndata: ${JSON.stringify(notification)}\n\n`);
  };

  /** Ends with the reply; a cancelled request's stream ends without one (nothing more may be sent for it). */
  finish(reply: JSONRPCResponse, status: number): void {
    if (!this.#open) {
      writeJson(this.#res, status, reply);
      return;
    }
    if (!isCancelledReply(reply)) this.#res.write(`event: message\ndata: ${JSON.stringify(reply)}\n\n`);
    this.#res.end();
  }
}

/** Whether a request's params carry `_meta.progressToken`. */
function progressTokenIn(params: unknown): boolean {
  const meta = (params as { _meta?: { progressToken?: unknown } } | undefined)?._meta;
  return meta?.progressToken !== undefined;
}

/** Whether a 2026-07-28 request asked for progress or log messages (`_meta`'s progress token or log level), which come on its response stream. */
function streamsModern(params: unknown): boolean {
  const meta = (params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  return meta !== undefined && (meta['progressToken'] !== undefined || meta[LOG_LEVEL_META_KEY] !== undefined);
}

/** One request or notification of the 2026-07-28 revision. */
async function serveModern(
  modern: Served,
  route: InboundModernRoute,
  req: IncomingMessage,
  res: ServerResponse,
  extra: MessageExtraInfo,
  scope: string,
  listen: (message: JSONRPCRequest) => Promise<void>,
): Promise<void> {
  const revision = route.classification.revision;
  const id = route.messageKind === 'request' ? route.message.id : null;
  if (revision !== MODERN_PROTOCOL_VERSION) {
    const supported = [MODERN_PROTOCOL_VERSION];
    writeError(res, 400, UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version: ${revision ?? 'unknown'} (supported versions: ${[...supported, ...SUPPORTED_PROTOCOL_VERSIONS].join(', ')})`, { supported, requested: revision ?? 'unknown' }, id);
    return;
  }
  const mismatch = standardHeaderMismatch(route, req.headers);
  if (mismatch !== undefined) {
    writeError(res, 400, HEADER_MISMATCH, mismatch, undefined, id);
    return;
  }
  await modern.connected;
  const extraWithEra: MessageExtraInfo = { ...extra, classification: route.classification };
  if (route.messageKind === 'notification') {
    void modern.transport.deliver([route.message], extraWithEra, { scope });
    res.writeHead(202).end();
    return;
  }
  // A listen stream is served here, beside the server: it outlives any one request's handling.
  if (route.message.method === 'subscriptions/listen') {
    await listen(route.message);
    return;
  }
  // On this revision the client cancels a request by closing its response.
  const closed = new AbortController();
  const onClose = () => {
    if (!res.writableEnded) closed.abort();
  };
  res.on('close', onClose);
  const stream = streamsModern(route.message.params) ? new ReplyStream(res) : undefined;
  const [reply] = await modern.transport.deliver([route.message], extraWithEra, { scope, onNotification: stream?.notify, signal: closed.signal });
  res.off('close', onClose);
  if (res.destroyed || reply === undefined) return;
  if (stream !== undefined) stream.finish(reply, statusOf(reply));
  else writeJson(res, statusOf(reply), reply);
}

/** JSON-RPC error codes of the 2026-07-28 revision. */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;
const HEADER_MISMATCH = -32020;

/**
 * On the 2026-07-28 revision an error the protocol layer answers before any
 * handler runs has an HTTP status of its own (an unknown method is 404); what a
 * handler answers is 200, with the error in the body.
 */
function statusOf(reply: JSONRPCResponse): number {
  if (!('error' in reply)) return 200;
  const code = reply.error.code;
  if (code === -32601) return 404;
  return code === -32700 || code === -32600 || code === UNSUPPORTED_PROTOCOL_VERSION || code === -32021 || code === HEADER_MISMATCH ? 400 : 200;
}

function header<K extends string>(req: IncomingMessage, name: string, key: K): Partial<Record<K, string>> {
  const value = req.headers[name];
  return typeof value === 'string' ? ({ [key]: value } as Record<K, string>) : {};
}

/** false once the POST has been refused for what it accepts or what it sent (status and JSON-RPC error written). */
function acceptable(req: IncomingMessage, res: ServerResponse): boolean {
  const accept = req.headers.accept;
  if (accept === undefined || !accept.includes('application/json') || !accept.includes('text/event-stream')) {
    writeError(res, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    return false;
  }
  if (!isJsonContentType(req.headers['content-type'] ?? null)) {
    writeError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    return false;
  }
  return true;
}

/** The JSON-RPC messages of a POST of the 2025 revisions, or undefined once it has been refused. */
function legacyMessages(req: IncomingMessage, res: ServerResponse, body: unknown): JSONRPCMessage[] | undefined {
  if (Array.isArray(body) && body.length > MAX_BATCH_SIZE) {
    return refuse(res, 400, -32600, `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`);
  }
  let messages: JSONRPCMessage[];
  try {
    messages = Array.isArray(body) ? body.map((m) => parseJSONRPCMessage(m)) : [parseJSONRPCMessage(body)];
  } catch {
    return refuse(res, 400, -32700, 'Parse error: Invalid JSON-RPC message');
  }
  // The server checks an initialize request's parameters itself; here only its place matters.
  if (messages.some((m) => isRequest(m) && m.method === 'initialize')) {
    if (messages.length > 1) return refuse(res, 400, -32600, 'Invalid Request: Only one initialization request is allowed');
  } else {
    const version = req.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return refuse(res, 400, -32000, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${[MODERN_PROTOCOL_VERSION, ...SUPPORTED_PROTOCOL_VERSIONS].join(', ')})`);
    }
  }
  return messages;
}

/** The id of a request body, when it has one a reply can carry. */
function echoableId(body: unknown): string | number | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { method, id } = body as { method?: unknown; id?: unknown };
  return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number') ? id : null;
}

function refuse(res: ServerResponse, status: number, code: number, message: string): undefined {
  writeError(res, status, code, message);
  return undefined;
}

function writeError(res: ServerResponse, status: number, code: number, message: string, data?: unknown, id: string | number | null = null): void {
  writeJson(res, status, { jsonrpc: '2.0', error: { code, message, ...(data === undefined ? {} : { data }) }, id });
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
