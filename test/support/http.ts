// Plain HTTP probes of the gateway, for what an MCP client would hide: status
// codes, headers and error bodies.

export interface Probe {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1.0.0' } },
};

async function probe(response: Response): Promise<Probe> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, headers: response.headers, body };
}

/** POSTs an MCP initialize to /mcp with the token: 200 when the gateway lets it through. */
export async function probeMcp(baseUrl: string, token: string): Promise<Probe> {
  return probe(
    await fetch(`${baseUrl}/mcp`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    }),
  );
}

/** POSTs a form to /oauth/token. */
export async function postTokenForm(baseUrl: string, form: Record<string, string>, contentType = 'application/x-www-form-urlencoded'): Promise<Probe> {
  return probe(await fetch(`${baseUrl}/oauth/token`, { method: 'POST', headers: { 'Content-Type': contentType }, body: new URLSearchParams(form).toString() }));
}

export async function getJson(url: string): Promise<Probe> {
  return probe(await fetch(url));
}

/**
 * Opens a legacy SSE session with plain fetch and reads up to its endpoint
 * event, for posts an MCP client would not make (another token, a bad one).
 */
export async function openRawSse(baseUrl: string, token: string): Promise<{ endpoint: string; close: () => void }> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/sse`, { headers: { Authorization: `Bearer ${token}` }, signal: controller.signal });
  if (res.status !== 200) {
    controller.abort();
    throw new Error(`GET /sse answered ${res.status}`);
  }
  const reader = res.body!.getReader();
  let buffered = '';
  while (!/event: endpoint\ndata: (\S+)/.test(buffered)) {
    const { value, done } = await reader.read();
    if (done) throw new Error('SSE stream ended before the endpoint event');
    buffered += new TextDecoder().decode(value);
  }
  return { endpoint: /event: endpoint\ndata: (\S+)/.exec(buffered)![1]!, close: () => controller.abort() };
}

/** Long enough for every instance's one-second state cache to have expired. */
export const STATE_CACHE_EXPIRY_MS = 1100;

/**
 * POSTs one request of the 2026-07-28 revision to `/mcp` (its headers and
 * `_meta` envelope written out); the HTTP response, unread.
 */
export function postModern(baseUrl: string, token: string, method: string, params: Record<string, unknown>, name?: string): Promise<Response> {
  return fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2026-07-28',
      'Mcp-Method': method,
      ...(name === undefined ? {} : { 'Mcp-Name': name }),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
    }),
  });
}

/** The JSON-RPC messages of an event-stream body (its `data:` lines). */
export function eventStreamMessages(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}
