// subscriptions/listen over stdio (2026-07-28). The SDK's stdio entry serves a
// listen stream itself (the acknowledgement, the subscription id on every
// notification, the teardown) and hands each notifications/resources/updated
// the server sends to the subscriptions whose filter names its URI; it never
// shows the server the filter. This transport, in front of the entry, reads
// each listen request first: a URI a resources/read would refuse (none of the
// resources, a graph the caller does not have or may not read) is answered
// with that error under the request's id, and the request goes no further;
// otherwise the request goes on to the entry, and its URIs are watched
// (tools/resource-watch.ts) until the client cancels the subscription or the
// connection ends. The server the updates are sent through is the one the
// entry pins to the connection (`attach`).

import { ProtocolError, type JSONRPCMessage, type MessageExtraInfo, type Server, type Transport, type TransportSendOptions } from '@modelcontextprotocol/server';
import { contextOf } from './call.js';
import type { Caller, ToolServices } from './context.js';
import { MAX_WATCHED_RESOURCES, ResourceWatch, firstReadsOf, listenFilterUris, type WatchStart } from './resource-watch.js';

const METHOD = 'subscriptions/listen';

type Message = JSONRPCMessage & { id?: unknown; method?: unknown; params?: Record<string, unknown> };

export class StdioListenTransport implements Transport {
  readonly #inner: Transport;
  readonly #services: ToolServices;
  readonly #caller: Caller;
  readonly #watch: ResourceWatch;
  /** The URIs of each open subscription, by its id (the listen request's id). */
  readonly #subscriptions = new Map<string | number, string[]>();
  #server: Server | undefined;
  #onmessage: Transport['onmessage'];

  constructor(inner: Transport, services: ToolServices, caller: Caller) {
    this.#inner = inner;
    this.#services = services;
    this.#caller = caller;
    this.#watch = new ResourceWatch(contextOf(services, caller, 'stdio-listen'), METHOD, async (uri) => {
      await this.#server?.sendResourceUpdated({ uri });
    });
    inner.onmessage = (message, extra) => this.#receive(message as Message, extra);
  }

  /** The server the entry pinned to this connection: where updates are sent from. */
  attach(server: Server): void {
    this.#server = server;
  }

  get onmessage(): Transport['onmessage'] {
    return this.#onmessage;
  }

  set onmessage(handler: Transport['onmessage']) {
    this.#onmessage = handler;
  }

  get onclose(): Transport['onclose'] {
    return this.#inner.onclose;
  }

  set onclose(handler: Transport['onclose']) {
    this.#inner.onclose = () => {
      this.#watch.close();
      handler?.();
    };
  }

  get onerror(): Transport['onerror'] {
    return this.#inner.onerror;
  }

  set onerror(handler: Transport['onerror']) {
    this.#inner.onerror = handler;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(message, options);
  }

  async close(): Promise<void> {
    this.#watch.close();
    await this.#inner.close();
  }

  #receive(message: Message, extra: MessageExtraInfo | undefined): void {
    if (message.method === METHOD && (typeof message.id === 'string' || typeof message.id === 'number')) {
      void this.#listen(message, message.id, extra);
      return;
    }
    if (message.method === 'notifications/cancelled') {
      const id = message.params?.['requestId'];
      if (typeof id === 'string' || typeof id === 'number') this.#forget(id);
    }
    this.#onmessage?.(message, extra);
  }

  async #listen(message: Message, id: string | number, extra: MessageExtraInfo | undefined): Promise<void> {
    let targets: WatchStart[];
    try {
      const uris = listenFilterUris(message.params);
      if (this.#watchedCount() + uris.length > MAX_WATCHED_RESOURCES) {
        throw new ProtocolError(-32602, `One connection may watch at most ${MAX_WATCHED_RESOURCES} resources; close a subscription it no longer needs first.`);
      }
      targets = await firstReadsOf(this.#services, { caller: this.#caller, requestId: `stdio-${String(id)}`, headers: undefined }, METHOD, uris);
    } catch (error) {
      // Answered here, never thrown: nothing awaits this request's handling but its client.
      const refusal = error instanceof ProtocolError ? error : new ProtocolError(-32603, 'The gateway could not start watching these resources; try again.');
      await this.#inner.send({ jsonrpc: '2.0', id, error: { code: refusal.code, message: refusal.message, ...(refusal.data === undefined ? {} : { data: refusal.data }) } }).catch(() => undefined);
      return;
    }
    this.#subscriptions.set(id, targets.map(([uri]) => uri));
    for (const [uri, target, seen] of targets) if (!this.#watch.has(uri)) this.#watch.add(uri, target, seen);
    this.#onmessage?.(message, extra);
  }

  #watchedCount(): number {
    let count = 0;
    for (const uris of this.#subscriptions.values()) count += uris.length;
    return count;
  }

  /** Ends subscription `id`: each of its URIs no other subscription names stops being watched. */
  #forget(id: string | number): void {
    const uris = this.#subscriptions.get(id);
    if (uris === undefined) return;
    this.#subscriptions.delete(id);
    const still = new Set([...this.#subscriptions.values()].flat());
    for (const uri of uris) if (!still.has(uri)) this.#watch.delete(uri);
  }
}
