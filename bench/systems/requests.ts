// Requests that end before a tool runs, for the cost of the gateway's front door:
// GET /healthz (the listener alone), tools/list with a good token (answered from a
// cache), and a tools/call with no token or with a bad one (refused with 401). Raw
// HTTP on keep-alive sockets (bench/systems/raw-http.ts), one socket per lane.

import { signTestToken } from '../../test/support/tokens.js';
import type { RequestJob, RequestName } from '../protocol.js';
import { tierTokens } from '../tokens.js';
import { toolCallBody } from './http-post.js';
import { RawHttpConnection } from './raw-http.js';

/** Distinct bad tokens, sent in turn, so that no cache of refusals can answer them. */
const BAD_TOKENS = 2_000;
const ACCEPT = 'application/json, text/event-stream';

export interface RequestClient {
  call(lane: number, seq: number): Promise<void>;
  close(): void;
}

interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  /** Headers of the `seq`-th request. */
  headers(seq: number): Record<string, string>;
  body(): string;
  /** The statuses a reply may have. */
  status: readonly number[];
  /** A text the body must hold. */
  text?: string;
}

async function specOf(request: RequestName): Promise<RequestSpec> {
  const query = () => toolCallBody('falkordb_query', { graphName: 'social', query: 'RETURN 1', readOnly: true });
  switch (request) {
    case 'healthz':
      return { method: 'GET', path: '/healthz', headers: () => ({}), body: () => '', status: [200] };
    case 'tools-list': {
      const [token] = await tierTokens(1);
      const headers = { Authorization: `Bearer ${token!}`, Accept: ACCEPT };
      let id = 1;
      return { method: 'POST', path: '/mcp', headers: () => headers, body: () => JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/list' }), status: [200], text: '"falkordb_query"' };
    }
    case 'no-token':
      return { method: 'POST', path: '/mcp', headers: () => ({ Accept: ACCEPT }), body: query, status: [401] };
    case 'bad-token':
    case 'bad-token-limited': {
      // Well formed, for a known tenant, unexpired, signed with a key the gateway does not have.
      const headers: Array<Record<string, string>> = [];
      for (let i = 0; i < BAD_TOKENS; i++) {
        const token = await signTestToken('bench-main', { scope: 'read write', secret: `not-the-gateway-secret-${i}-0123456789abcdef` });
        headers.push({ Authorization: `Bearer ${token}`, Accept: ACCEPT });
      }
      // Past the limit of failed authentications per address, the gateway answers 429 without checking the token.
      return { method: 'POST', path: '/mcp', headers: (seq) => headers[seq % BAD_TOKENS]!, body: query, status: request === 'bad-token' ? [401] : [401, 429] };
    }
  }
}

export async function requestClient(job: RequestJob): Promise<RequestClient> {
  const spec = await specOf(job.request);
  const url = new URL(spec.path, job.endpoints.gatewayUrl);
  const lanes = Array.from({ length: job.concurrency }, () => new RawHttpConnection(url));
  return {
    async call(lane, seq) {
      const reply = await lanes[lane]!.request(spec.method, spec.headers(seq), spec.body());
      if (!spec.status.includes(reply.status) || (spec.text !== undefined && !reply.text.includes(spec.text))) {
        throw new Error(`${job.request}: HTTP ${reply.status}, expected ${spec.status.join(' or ')}: ${reply.text.slice(0, 200)}`);
      }
    },
    close() {
      for (const connection of lanes) connection.close();
    },
  };
}
