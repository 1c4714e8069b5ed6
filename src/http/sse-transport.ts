// The MCP transport of the 2024-11-05 HTTP+SSE binding, still used by clients
// that connect to /sse: one event stream per session (GET), whose first event
// names where to post (`endpoint`), and every message of the session posted
// there as its own POST (answered 202; the replies come on the stream). The
// SDK's current major version no longer ships this binding, so the gateway
// keeps its own: it is a stream writer and a message hand-off, nothing more.

import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parseJSONRPCMessage, type JSONRPCMessage, type MessageExtraInfo, type Transport } from '@modelcontextprotocol/server';

export class SseServerTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  readonly sessionId = randomUUID();
  readonly #endpoint: string;
  readonly #res: ServerResponse;
  #open = false;
  #closed = false;

  /** `endpoint`: the path (and query) clients post to; the session id is added to its query. */
  constructor(endpoint: string, res: ServerResponse) {
    this.#endpoint = endpoint;
    this.#res = res;
  }

  start(): Promise<void> {
    if (this.#open) throw new Error('This SSE transport has already started.');
    this.#open = true;
    this.#res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive' });
    const url = new URL(this.#endpoint, 'http://localhost');
    url.searchParams.set('sessionId', this.sessionId);
    this.#res.write(`event: endpoint\ndata: ${url.pathname}${url.search}\n\n`);
    this.#res.on('close', () => this.#ended());
    return Promise.resolve();
  }

  /**
   * Hands one posted message to the server. Throws (with a message fit for the
   * client) when the body is not one JSON-RPC message; the caller answers 400.
   */
  receive(body: unknown, extra: MessageExtraInfo): void {
    if (!this.#open || this.#closed) throw new Error('The SSE stream of this session has ended; reconnect to /sse.');
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(body);
    } catch {
      throw new Error('The body is not a JSON-RPC 2.0 message (a request, notification or response object).');
    }
    this.onmessage?.(message, extra);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('Not connected'));
    this.#res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (!this.#res.writableEnded) this.#res.end();
    this.#ended();
    return Promise.resolve();
  }

  #ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}
