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

//
// A cancellation (notifications/cancelled) names a request by the caller's own
// id, which is not unique across callers: it reaches only a request of the same
// caller (`Delivery.scope`), and is dropped otherwise.

import {
  PerRequestHTTPServerTransport,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type MessageExtraInfo,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';

/** How one POST's messages are delivered. */
export interface Delivery {
  /** Who sent them (tenant, subject, device): a cancellation reaches only a request with the same scope. */
  scope?: string | undefined;
  /** Gets the notifications the server sends about this POST's requests (progress, log messages); dropped when absent. */
  onNotification?: ((notification: JSONRPCNotification) => void) | undefined;
  /** Aborted: this POST's requests still running are cancelled (2026-07-28: the client closed the response). */
  signal?: AbortSignal | undefined;
}

interface Pending {
  callerId: RequestId;
  /** Key of the request in the caller index, when its POST had a scope. */
  callerKey: string | undefined;
  onNotification: Delivery['onNotification'];
  resolve(response: JSONRPCResponse): void;
}

/** What both multiplexers offer the HTTP endpoint. */
export interface Multiplexer extends Transport {
  deliver(messages: readonly JSONRPCMessage[], extra: MessageExtraInfo, delivery?: Delivery): Promise<JSONRPCResponse[]>;
}

/** JSON-RPC code of the reply a cancelled request's POST ends with (the SDK's server sends none); its client has stopped waiting for it. */
export const REQUEST_CANCELLED = -32800;

export function isCancelledReply(reply: JSONRPCResponse): boolean {
  return 'error' in reply && reply.error.code === REQUEST_CANCELLED;
}

function callerKeyOf(scope: string, id: RequestId): string {
  return `${scope}\n${typeof id}:${String(id)}`;
}

export class CallerMultiplexer implements Multiplexer {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  readonly #pending = new Map<number, Pending>();
  /** The inner id of each running request, by its caller's scope and own id. */
  readonly #byCaller = new Map<string, number>();
  #nextId = 1;
  #closed = false;

  start(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Delivers one POST's messages, already validated as JSON-RPC (so their kind
   * is told by their members, not by parsing them again); resolves with the
   * replies to its requests, in their order. Notifications are delivered too; a
   * cancellation only when it names a running request of the same scope, under
   * that request's inner id (a request of another POST of the same caller, in
   * stateless HTTP), and that request's POST then ends with a REQUEST_CANCELLED reply.
   */
  deliver(messages: readonly JSONRPCMessage[], extra: MessageExtraInfo, delivery: Delivery = {}): Promise<JSONRPCResponse[]> {
    const replies: Array<Promise<JSONRPCResponse>> = [];
    const ids: number[] = [];
    for (const message of messages) {
      if (isRequest(message)) {
        const id = this.#nextId++;
        const callerKey = delivery.scope === undefined ? undefined : callerKeyOf(delivery.scope, message.id);
        replies.push(
          new Promise<JSONRPCResponse>((resolve) => {
            this.#pending.set(id, { callerId: message.id, callerKey, onNotification: delivery.onNotification, resolve });
          }),
        );
        // A caller reusing the id of its own running request: the newer one is what a cancellation names.
        if (callerKey !== undefined) this.#byCaller.set(callerKey, id);
        ids.push(id);
        const inner: JSONRPCRequest = { ...message, id };
        this.#dispatch(inner, id, extra);
      } else if ('method' in message) {
        if (message.method === 'notifications/cancelled') this.#cancelByCaller(delivery.scope, message.params?.['requestId'], message.params?.['reason'], extra);
        else this.#dispatch(message, undefined, extra);
      }
      // Responses: the server sends no requests in stateless HTTP, so there is nothing they could answer.
    }
    const { signal } = delivery;
    if (signal !== undefined && ids.length > 0) {
      const cancelAll = () => {
        for (const id of ids) this.#cancel(id, 'The client closed the request.', extra);
      };
      if (signal.aborted) cancelAll();
      else {
        signal.addEventListener('abort', cancelAll, { once: true });
        void Promise.all(replies).then(() => signal.removeEventListener('abort', cancelAll));
      }
    }
    return Promise.all(replies);
  }

  #cancelByCaller(scope: string | undefined, callerId: unknown, reason: unknown, extra: MessageExtraInfo): void {
    if (scope === undefined || (typeof callerId !== 'string' && typeof callerId !== 'number')) return;
    const id = this.#byCaller.get(callerKeyOf(scope, callerId));
    if (id !== undefined) this.#cancel(id, typeof reason === 'string' ? reason : undefined, extra);
  }

  /** Cancels running request `id`: the server's handler is told (its signal aborts), and its POST is answered now. */
  #cancel(id: number, reason: string | undefined, extra: MessageExtraInfo): void {
    if (!this.#pending.has(id)) return;
    const cancelled: JSONRPCNotification = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, ...(reason === undefined ? {} : { reason }) } };
    this.#dispatch(cancelled, undefined, extra);
    this.#answer(id, { jsonrpc: '2.0', id, error: { code: REQUEST_CANCELLED, message: 'The request was cancelled.' } });
  }

  #dispatch(message: JSONRPCMessage, id: number | undefined, extra: MessageExtraInfo): void {
    if (this.#closed || this.onmessage === undefined) {
      if (id !== undefined) this.#answer(id, closedError(id));
      return;
    }
    this.onmessage(message, extra);
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    // Messages come from the server itself, so their members say what they are.
    if (!('method' in message)) {
      if ('id' in message && typeof message.id === 'number') this.#answer(message.id, message);
    } else if (!('id' in message)) {
      // Progress and log messages go on their request's stream, when its POST has one; else they are dropped, as the SDK's JSON mode does.
      const related = options?.relatedRequestId;
      if (typeof related === 'number') this.#pending.get(related)?.onNotification?.(message);
    }
    return Promise.resolve();
  }

  #answer(id: number, response: JSONRPCResponse): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (pending.callerKey !== undefined && this.#byCaller.get(pending.callerKey) === id) this.#byCaller.delete(pending.callerKey);
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

  deliver(messages: readonly JSONRPCMessage[], extra: MessageExtraInfo, delivery?: Delivery): Promise<JSONRPCResponse[]> {
    return this.#inner.deliver(messages, extra, delivery);
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(message, options);
  }

  override close(): Promise<void> {
    return this.#inner.close();
  }
}

