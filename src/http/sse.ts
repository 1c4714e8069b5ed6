// Legacy MCP HTTP+SSE (GET /sse, POST /messages). A session belongs to the
// tenant and token that opened it: posts from another tenant, or after that
// token has expired, are refused, and the stream ends when the token does.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { graphClaimCovers } from '../auth/graph-rules.js';
import type { Principal } from '../auth/principal.js';
import { GatewayError } from '../errors.js';
import { createMcpServer } from '../tools/index.js';
import type { ToolContext } from '../tools/context.js';

interface SseSession {
  transport: SSEServerTransport;
  server: McpServer;
  principal: Principal;
  expiryTimer: NodeJS.Timeout | undefined;
}

const KEEP_ALIVE_MS = 15_000;
// setTimeout's own ceiling; longer tokens are re-checked on every post anyway.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SseSessions {
  readonly #sessions = new Map<string, SseSession>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get size(): number {
    return this.#sessions.size;
  }

  async open(res: ServerResponse, ctx: ToolContext, messagesPath: string): Promise<string> {
    // Reverse proxies (nginx) buffer responses by default, which would hold every event back.
    res.setHeader('X-Accel-Buffering', 'no');
    const transport = new SSEServerTransport(messagesPath, res);
    const server = createMcpServer(ctx);
    const principal = ctx.principal;
    const untilExpiry = principal.expiresAt * 1000 - this.#now();
    const session: SseSession = {
      transport,
      server,
      principal,
      expiryTimer: setTimeout(() => void transport.close(), Math.max(0, Math.min(untilExpiry, MAX_TIMER_MS))),
    };
    session.expiryTimer?.unref();
    const keepAlive = setInterval(() => {
      if (!res.writableEnded) res.write(': keep-alive\n\n');
    }, KEEP_ALIVE_MS);
    keepAlive.unref();
    let cleaned = false;
    // server.close() closes the transport, whose onclose lands here again.
    const cleanup = () => {
      if (cleaned) return;
      cleaned = true;
      clearInterval(keepAlive);
      clearTimeout(session.expiryTimer);
      this.#sessions.delete(transport.sessionId);
      void server.close();
    };
    res.on('close', cleanup);
    transport.onclose = cleanup;
    await server.connect(transport);
    this.#sessions.set(transport.sessionId, session);
    return transport.sessionId;
  }

  /**
   * Delivers a POST to its session. `caller` is the principal of a token sent
   * with the post, if any; without one, the session's own token stands.
   */
  async post(sessionId: string, caller: Principal | undefined, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const session = this.#sessions.get(sessionId);
    if (session === undefined) {
      throw new GatewayError('SESSION_UNKNOWN', 'No such SSE session (it ended, or belongs to another gateway instance). Reconnect to /sse.');
    }
    if (session.principal.expiresAt * 1000 <= this.#now()) {
      void session.transport.close();
      throw new GatewayError('TOKEN_EXPIRED', 'The token that opened this SSE session has expired. Reconnect to /sse with a fresh token.');
    }
    if (caller !== undefined) {
      if (caller.tenant !== session.principal.tenant) {
        throw new GatewayError('SESSION_FORBIDDEN', 'This SSE session belongs to another tenant. Open your own session on /sse.');
      }
      if (!session.principal.scopes.every((s) => caller.scopes.includes(s))) {
        throw new GatewayError('SESSION_FORBIDDEN', 'This token has fewer scopes than the one that opened the SSE session. Open a new session on /sse with this token.');
      }
      if (!graphClaimCovers(caller.graphs, session.principal.graphs)) {
        throw new GatewayError('SESSION_FORBIDDEN', 'This token is limited to fewer graphs (its "graphs" claim) than the one that opened the SSE session. Open a new session on /sse with this token.');
      }
    }
    await session.transport.handlePostMessage(req, res, body);
  }

  /** The principal whose token opened the session, if the session is here. */
  principalOf(sessionId: string): Principal | undefined {
    return this.#sessions.get(sessionId)?.principal;
  }

  async close(sessionId: string): Promise<void> {
    await this.#sessions.get(sessionId)?.transport.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.transport.close()));
  }
}
