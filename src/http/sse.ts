// Legacy MCP HTTP+SSE (GET /sse, POST /messages). A session belongs to the
// client that opened it: every post must carry a valid token of the same
// tenant, subject and device (the session id alone is no credential), and the
// session runs with the opener's scopes and graphs. The stream ends at the
// opener's `exp` by this host's clock, and a token past its `exp` here neither
// opens nor drives a session, whatever the clock tolerance.

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

  /**
   * Opens a session on `res` for `ctx.principal`. `messagesPath` is where the
   * client is told to post (it carries `?token=` for a client that opened with one).
   */
  async open(res: ServerResponse, ctx: ToolContext, messagesPath: string): Promise<string> {
    this.#refuseExpired(ctx.principal, 'open');
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
   * Delivers a POST to its session. `caller` is the verified principal of the
   * token the post carried; it must be the opener's client (tenant, subject,
   * device) with at least the opener's scopes and graphs. The session keeps
   * running with the opener's rights, so a post can never do more than either
   * token allows.
   */
  async post(sessionId: string, caller: Principal, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    this.#refuseExpired(caller, 'post');
    const session = this.#sessions.get(sessionId);
    if (session === undefined) {
      throw new GatewayError('SESSION_UNKNOWN', 'No such SSE session (it ended, or belongs to another gateway instance). Reconnect to /sse.');
    }
    const opener = session.principal;
    if (opener.expiresAt * 1000 <= this.#now()) {
      void session.transport.close();
      throw new GatewayError('TOKEN_EXPIRED', 'The token that opened this SSE session has expired. Reconnect to /sse with a fresh token.');
    }
    if (caller.tenant !== opener.tenant) {
      throw new GatewayError('SESSION_FORBIDDEN', 'This SSE session belongs to another tenant. Open your own session on /sse.');
    }
    if (caller.subject !== opener.subject || caller.device !== opener.device) {
      throw new GatewayError('SESSION_FORBIDDEN', 'This SSE session was opened by another client or device of this tenant (a token with another subject or device). Open your own session on /sse.');
    }
    if (!opener.scopes.every((s) => caller.scopes.includes(s))) {
      throw new GatewayError('SESSION_FORBIDDEN', 'This token has fewer scopes than the one that opened the SSE session. Open a new session on /sse with this token.');
    }
    if (!graphClaimCovers(caller.graphs, opener.graphs)) {
      throw new GatewayError('SESSION_FORBIDDEN', 'This token is limited to fewer graphs (its "graphs" claim) than the one that opened the SSE session. Open a new session on /sse with this token.');
    }
    await session.transport.handlePostMessage(req, res, body);
  }

  /**
   * AUTH_CLOCK_TOLERANCE lets a token through verification for a while past
   * its `exp`, for skew between hosts. A session is timed by this host's clock
   * alone: it ends at `exp`, so a token already past it here would open a
   * session that ends at once, and the client would reopen it in a loop.
   */
  #refuseExpired(principal: Principal, what: 'open' | 'post'): void {
    if (principal.expiresAt * 1000 > this.#now()) return;
    const at = new Date(principal.expiresAt * 1000).toISOString();
    throw new GatewayError(
      'TOKEN_EXPIRED',
      what === 'open'
        ? `The token expired at ${at}; an SSE session cannot be opened with it. Get a new token.`
        : `The token expired at ${at}, and so did any SSE session it opened. Get a new token and reconnect to /sse.`,
    );
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
