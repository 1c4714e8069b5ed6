// One MCP transport shared by every stateless POST of a gateway: it hands each
// caller's JSON-RPC messages to one long-lived server under ids of its own, so
// two callers' ids never meet, and gives the replies back under the caller's ids.
// Each message goes with its POST's MessageExtraInfo, whose authInfo tells the
// server's handlers who the caller is.
//
// There are two: one for the 2025 revisions (CallerMultiplexer), and one for
// the 2026-07-28 revision (ModernCallerMultiplexer), which the SDK's server
// recognises as a per-request HTTP transport of that revision when it
// connects, and so pins to it: it answers server/discover, checks each
// request's _meta envelope and writes results in that revision's form.

import {
  PerRequestHTTPServerTransport,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type MessageExtraInfo,
  type RequestId,
  type Transport,
} from '@modelcontextprotocol/server';

interface Pending {
  callerId: RequestId;
  resolve(response: JSONRPCResponse): void;
}

/** What both multiplexers offer the HTTP endpoint. */
export interface Multiplexer extends Transport {
  deliver(messages: readonly JSONRPCMessage[], extra: MessageExtraInfo): Promise<JSONRPCResponse[]>;
}

export class CallerMultiplexer implements Multiplexer {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  start(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Delivers one POST's messages, already validated as JSON-RPC (so their kind
   * is told by their members, not by parsing them again); resolves with the
   * replies to its requests, in their order. Notifications are delivered too,
   * except cancellations: in stateless HTTP one can only name a request of
   * another POST, which is no longer there (and must never be another caller's).
   */
  deliver(messages: readonly JSONRPCMessage[], extra: MessageExtraInfo): Promise<JSONRPCResponse[]> {
    const replies: Array<Promise<JSONRPCResponse>> = [];
    for (const message of messages) {
      if (isRequest(message)) {
        const id = this.#nextId++;
        replies.push(
          new Promise<JSONRPCResponse>((resolve) => {
            this.#pending.set(id, { callerId: message.id, resolve });
          }),
        );
        const inner: JSONRPCRequest = { ...message, id };
        this.#dispatch(inner, id, extra);
      } else if ('method' in message && message.method !== 'notifications/cancelled') {
        this.#dispatch(message, undefined, extra);
      }
      // Responses: the server sends no requests in stateless HTTP, so there is nothing they could answer.
    }
    return Promise.all(replies);
  }

  #dispatch(message: JSONRPCMessage, id: number | undefined, extra: MessageExtraInfo): void {
    if (this.#closed || this.onmessage === undefined) {
      if (id !== undefined) this.#answer(id, closedError(id));
      return;
    }
    this.onmessage(message, extra);
  }

  send(message: JSONRPCMessage): Promise<void> {
    // Progress and log notifications have no stream to go on in a JSON reply: dropped, as the SDK's JSON mode does.
    // Messages come from the server itself, so their members say what they are.
    if (!('method' in message) && 'id' in message && typeof message.id === 'number') {
      this.#answer(message.id, message);
    }
    return Promise.resolve();
  }

  #answer(id: number, response: JSONRPCResponse): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    pending.resolve({ ...response, id: pending.callerId });
  }

  /** Answers every request still waiting with an error, so no HTTP reply hangs. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const id of [...this.#pending.keys()]) this.#answer(id, closedError(id));
    this.onclose?.();
    return Promise.resolve();
  }
}

/** A request (method and id), as opposed to a notification (no id) or a response (no method). */
export function isRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return 'method' in message && 'id' in message;
}

function closedError(id: number): JSONRPCResponse {
  return { jsonrpc: '2.0', id, error: { code: CONNECTION_CLOSED, message: 'The gateway is shutting down; retry.' } };
}

/** JSON-RPC's "connection closed" (the SDK's ConnectionClosed): the request was not served, and may be sent again. */
const CONNECTION_CLOSED = -32000;

/**
 * The multiplexer of the 2026-07-28 revision. It is the SDK's per-request
 * transport only in name, so that the server it connects to is pinned to that
 * revision; every message goes through a CallerMultiplexer inside.
 */
export class ModernCallerMultiplexer extends PerRequestHTTPServerTransport implements Multiplexer {
  readonly #inner = new CallerMultiplexer();

  constructor(revision: string) {
    super({ classification: { era: 'modern', revision }, responseMode: 'json' });
  }

  override start(): Promise<void> {
    this.#inner.onmessage = (message, extra) => this.onmessage?.(message, extra);
    this.#inner.onclose = () => this.onclose?.();
    this.#inner.onerror = (error) => this.onerror?.(error);
    return this.#inner.start();
  }

  deliver(messages: readonly JSONRPCMessage[], extra: MessageExtraInfo): Promise<JSONRPCResponse[]> {
    return this.#inner.deliver(messages, extra);
  }

  override send(message: JSONRPCMessage): Promise<void> {
    return this.#inner.send(message);
  }

  override close(): Promise<void> {
    return this.#inner.close();
  }
}

