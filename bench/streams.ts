// Long-lived streams for the memory measurement: legacy SSE sessions on the
// gateway (GET /sse), and Streamable HTTP sessions with their GET stream on the official server.

import http from 'node:http';
import type { Endpoints } from './protocol.js';
import { openOfficialSession } from './systems/official-client.js';
import { keepAliveAgent } from './systems/http-post.js';
import { tierTokens } from './tokens.js';

const OPEN_AT_ONCE = 50;

export interface HeldStreams {
  opened: number;
  failed: number;
  firstError: string | undefined;
  close(): void;
}

/** GETs `url` and resolves once the first bytes of the stream arrived (the session is set up then). */
function openStream(url: URL, headers: Record<string, string>, agent: http.Agent): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers }, agent }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      // The official server sends headers only; the gateway sends the endpoint event at once.
      const timer = setTimeout(() => resolve(req), 200);
      res.once('data', () => {
        clearTimeout(timer);
        resolve(req);
      });
      res.on('error', () => undefined);
    });
    req.on('error', reject);
  });
}

async function openAll(count: number, open: (i: number) => Promise<http.ClientRequest>): Promise<HeldStreams> {
  const requests: http.ClientRequest[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: OPEN_AT_ONCE }, async () => {
      while (next < count) {
        const i = next++;
        try {
          requests.push(await open(i));
        } catch (error) {
          failed++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  return { opened: requests.length, failed, firstError, close: () => requests.forEach((r) => r.destroy()) };
}

export async function holdStreams(target: 'gateway-sse' | 'official-session', count: number, endpoints: Endpoints): Promise<HeldStreams> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  if (target === 'gateway-sse') {
    const tokens = await tierTokens(count);
    const url = new URL('/sse', endpoints.gatewayUrl);
    return openAll(count, (i) => openStream(url, { Authorization: `Bearer ${tokens[i]!}` }, agent));
  }
  if (endpoints.officialUrl === undefined) throw new Error('the official server is not running');
  const url = new URL(endpoints.officialUrl);
  const postAgent = keepAliveAgent(OPEN_AT_ONCE);
  const held = await openAll(count, async () => {
    const session = await openOfficialSession(url, postAgent);
    return openStream(url, { 'mcp-session-id': session }, agent);
  });
  postAgent.destroy();
  return held;
}
