// A minimal keep-alive HTTP client for raw JSON-RPC calls: node:http, one socket per lane.

import http from 'node:http';

export interface PostReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function keepAliveAgent(sockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

export function post(url: URL, agent: http.Agent, headers: Record<string, string>, body: string): Promise<PostReply> {
  return request('POST', url, agent, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }, body);
}

export function request(method: string, url: URL, agent: http.Agent, headers: Record<string, string>, body?: string): Promise<PostReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON-RPC message of a reply sent as JSON, or as an SSE stream of one `data:` event. */
export function jsonRpcMessage(reply: PostReply): { result?: Record<string, unknown>; error?: { message: string } } {
  if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.text.slice(0, 300)}`);
  const contentType = String(reply.headers['content-type'] ?? '');
  let text = reply.text;
  if (contentType.startsWith('text/event-stream')) {
    const data = text.split('\n').filter((line) => line.startsWith('data: '));
    if (data.length === 0) throw new Error(`no data event in the SSE reply: ${text.slice(0, 200)}`);
    text = data[data.length - 1]!.slice(6);
  }
  const message = JSON.parse(text) as { result?: Record<string, unknown>; error?: { message: string } };
  if (message.error !== undefined) throw new Error(`JSON-RPC error: ${message.error.message}`);
  return message;
}

/** Throws when a tools/call result is a tool error. */
export function checkToolResult(result: Record<string, unknown> | undefined): Record<string, unknown> {
  if (result === undefined) throw new Error('no result');
  if (result['isError'] === true) {
    const content = result['content'] as Array<{ text?: string }> | undefined;
    throw new Error(`tool error: ${content?.[0]?.text?.slice(0, 300) ?? 'unknown'}`);
  }
  return result;
}

let nextId = 1;

export function toolCallBody(name: string, args: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } });
}
