// A legacy SSE session driven by hand (plain fetch), for what an MCP client
// would not do: posts without a token or with someone else's, and reading the
// session id the stream names.

export interface RawSseSession {
  /** The path the endpoint event names, e.g. `/messages?sessionId=…`. */
  endpoint: string;
  sessionId: string;
  /** POSTs one JSON-RPC message to the endpoint; `token` goes in the Authorization header when given. */
  post(message: unknown, token?: string): Promise<Response>;
  /** The JSON-RPC message on the stream that answers `id`. */
  answer(id: number): Promise<Record<string, unknown>>;
  /** Every JSON-RPC message the stream has carried so far. */
  received(): Record<string, unknown>[];
  /** Settles when the gateway ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openSseSession(baseUrl: string, token: string, via: 'header' | 'query' = 'header'): Promise<RawSseSession> {
  const controller = new AbortController();
  const url = via === 'header' ? `${baseUrl}/sse` : `${baseUrl}/sse/?token=${encodeURIComponent(token)}`;
  const res = await fetch(url, { headers: via === 'header' ? { Authorization: `Bearer ${token}` } : {}, signal: controller.signal });
  if (res.status !== 200) {
    controller.abort();
    throw new Error(`GET /sse answered ${res.status}: ${await res.text().catch(() => '')}`);
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const messages: Record<string, unknown>[] = [];
  const waiting = new Set<() => void>();
  let buffered = '';
  let endpoint: string | undefined;
  let streamOver = false;
  let onEndpoint: (value: string) => void = () => undefined;
  const endpointSeen = new Promise<string>((resolve) => (onEndpoint = resolve));

  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, cut);
          buffered = buffered.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (event === 'endpoint') {
            endpoint = data;
            onEndpoint(data);
          } else if (event === 'message' && data !== '') {
            messages.push(JSON.parse(data) as Record<string, unknown>);
            for (const wake of waiting) wake();
          }
        }
      }
    } catch {
      // aborted by close()
    } finally {
      streamOver = true;
      for (const wake of waiting) wake();
    }
  })();

  const seen = await Promise.race([endpointSeen, ended.then(() => undefined)]);
  if (seen === undefined || endpoint === undefined) throw new Error('SSE stream ended before the endpoint event');
  const sessionId = new URL(endpoint, baseUrl).searchParams.get('sessionId') ?? '';

  return {
    endpoint,
    sessionId,
    post: (message, postToken) =>
      fetch(`${baseUrl}${endpoint}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(postToken === undefined ? {} : { Authorization: `Bearer ${postToken}` }) },
        body: JSON.stringify(message),
      }),
    answer: async (id) => {
      for (;;) {
        const found = messages.find((m) => m['id'] === id);
        if (found !== undefined) return found;
        if (streamOver) throw new Error(`the SSE stream ended before an answer to ${id}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiting.delete(wake);
            resolve();
          };
          waiting.add(wake);
        });
      }
    },
    received: () => [...messages],
    ended,
    close: () => controller.abort(),
  };
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1.0.0' } },
};

/** Initializes the session with `token` on each post, the way a client that sends its header everywhere does. */
export async function initializeSession(session: RawSseSession, token: string | undefined): Promise<void> {
  const init = await session.post(INITIALIZE, token);
  if (init.status !== 202) throw new Error(`initialize answered ${init.status}`);
  await session.answer(1);
  const done = await session.post({ jsonrpc: '2.0', method: 'notifications/initialized' }, token);
  if (done.status !== 202) throw new Error(`notifications/initialized answered ${done.status}`);
}

export function toolCall(id: number, name: string, args: Record<string, unknown> = {}): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}
