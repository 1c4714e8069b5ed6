// Legacy MCP HTTP+SSE (GET /sse, POST /messages). A session belongs to the
// client that opened it: every post must carry a valid token of the same
// tenant, subject and device (the session id alone is no credential), and the
// session runs with the opener's scopes and graphs. The stream ends at the
// opener's `exp` by this host's clock, and a token past its `exp` here neither
// opens nor drives a session, whatever the clock tolerance. Sessions are capped
// per client and per tenant on this instance, and closed when idle.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType, type McpServer } from '@modelcontextprotocol/server';
import { graphClaimCovers } from '../tenancy/graph-rules.js';
import type { Principal } from '../tenancy/principal.js';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { callerAuthInfo, createMcpServer } from '../tools/index.js';
import type { Caller, ToolServices } from '../tools/context.js';
import { sendJson } from './respond.js';
import { SseServerTransport } from './sse-transport.js';

interface SseSession {
  transport: SseServerTransport;
  server: McpServer;
  caller: Caller;
  principal: Principal;
  expiryTimer: NodeJS.Timeout | undefined;
  /** Restarts the idle clock: a POST arrived, or a tool call began or ended. */
  touch(): void;
}

export type SseSessionLimits = Config['sse'];

/** Counts per key, for the session caps; a key leaves the map when its count is back to 0. */
class Counts {
  readonly #counts = new Map<string, number>();
  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
  add(key: string, delta: number): void {
    const next = this.get(key) + delta;
    if (next <= 0) this.#counts.delete(key);
    else this.#counts.set(key, next);
  }
}

/** One client of a tenant, as the per-device cap counts it: subject and device, or the token itself when it names no device. */
function clientKey(principal: Principal): string {
  return JSON.stringify([principal.tenant, principal.subject, principal.device ?? `jti:${principal.jti ?? ''}`]);
}

const KEEP_ALIVE_MS = 15_000;
/** How often the tokens of open sessions are checked again, so that a revoked token's idle session ends too. */
const RECHECK_MS = 2000;
// setTimeout's own ceiling; longer tokens are re-checked on every post anyway.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SseSessions {
  readonly #sessions = new Map<string, SseSession>();
  readonly #limits: SseSessionLimits;
  readonly #now: () => number;
  // Sessions opening or open, counted as soon as they are admitted so that concurrent opens cannot pass the caps.
  readonly #perTenant = new Counts();
  readonly #perClient = new Counts();
  // Listen streams of /mcp (subscriptions/listen), counted under the same caps, rechecked as sessions are, ended by closeAll.
  readonly #streams = new Map<() => void, Caller>();

  readonly #recheck: ((caller: Caller) => Promise<void>) | undefined;
  #recheckTimer: NodeJS.Timeout | undefined;
  #rechecking = false;

  /**
   * `recheck`: rejects once a session's token is revoked or its tenant disabled
   * (the check every request gets); each open session and listen stream is
   * checked every RECHECK_MS and closed then, posts or none.
   */
  constructor(limits: SseSessionLimits, now: () => number = Date.now, recheck?: (caller: Caller) => Promise<void>) {
    this.#limits = limits;
    this.#now = now;
    this.#recheck = recheck;
  }

  #startRechecks(): void {
    if (this.#recheck === undefined || this.#recheckTimer !== undefined) return;
    this.#recheckTimer = setInterval(() => void this.#recheckAll(), RECHECK_MS);
    this.#recheckTimer.unref();
  }

  async #recheckAll(): Promise<void> {
    const recheck = this.#recheck;
    if (recheck === undefined || this.#rechecking) return;
    if (this.#sessions.size === 0 && this.#streams.size === 0) {
      clearInterval(this.#recheckTimer);
      this.#recheckTimer = undefined;
      return;
    }
    this.#rechecking = true;
    try {
      await Promise.all([
        ...[...this.#sessions.values()].map((session) => recheck(session.caller).catch(() => session.transport.close())),
        ...[...this.#streams].map(([close, caller]) => recheck(caller).catch(close)),
      ]);
    } finally {
      this.#rechecking = false;
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Opens a session on `res` for `caller`, whose calls run with `tools`. `messagesPath` is where the
   * client is told to post (it carries `?token=` for a client that opened with one).
   */
  async open(res: ServerResponse, tools: ToolServices, caller: Caller, messagesPath: string): Promise<string> {
    this.#refuseExpired(caller.principal, 'open');
    const principal = caller.principal;
    const client = clientKey(principal);
    this.#refuseOverCap(principal, client);
    this.#perTenant.add(principal.tenant, 1);
    this.#perClient.add(client, 1);
    // Reverse proxies (nginx) buffer responses by default, which would hold every event back.
    res.setHeader('X-Accel-Buffering', 'no');
    const transport = new SseServerTransport(messagesPath, res);
    // A tool call in progress keeps its session from being idle, however long it runs.
    let callsRunning = 0;
    const idleMs = this.#limits.idleTimeoutMs;
    const idleTimer =
      idleMs === 0
        ? undefined
        : setTimeout(() => {
            if (callsRunning > 0) idleTimer?.refresh();
            else void transport.close();
          }, idleMs);
    idleTimer?.unref();
    const touch = () => void idleTimer?.refresh();
    const inFlight: ToolServices['inFlight'] = {
      begin: () => {
        callsRunning += 1;
        touch();
        const end = tools.inFlight.begin();
        return () => {
          callsRunning -= 1;
          touch();
          end();
        };
      },
    };
    const server = createMcpServer({ ...tools, inFlight }, caller);
    const untilExpiry = principal.expiresAt * 1000 - this.#now();
    const session: SseSession = {
      transport,
      server,
      caller,
      principal,
      expiryTimer: setTimeout(() => void transport.close(), Math.max(0, Math.min(untilExpiry, MAX_TIMER_MS))),
      touch,
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
      clearTimeout(idleTimer);
      this.#perTenant.add(principal.tenant, -1);
      this.#perClient.add(client, -1);
      this.#sessions.delete(transport.sessionId);
      void server.close();
    };
    res.on('close', cleanup);
    transport.onclose = cleanup;
    await server.connect(transport);
    this.#sessions.set(transport.sessionId, session);
    this.#startRechecks();
    return transport.sessionId;
  }

  /**
   * Admits one subscriptions/listen stream of `caller` under the same caps as
   * sessions (SESSION_LIMIT beyond them); `close` ends it at shutdown, and when
   * a recheck finds its token refused. The function returned gives its place
   * back (call it when the stream ends).
   */
  admitStream(caller: Caller, close: () => void): () => void {
    const { principal } = caller;
    const client = clientKey(principal);
    this.#refuseOverCap(principal, client, 'stream');
    this.#perTenant.add(principal.tenant, 1);
    this.#perClient.add(client, 1);
    this.#streams.set(close, caller);
    this.#startRechecks();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#streams.delete(close);
      this.#perTenant.add(principal.tenant, -1);
      this.#perClient.add(client, -1);
    };
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
    session.touch();
    if (!isJsonContentType(req.headers['content-type'] ?? null)) {
      sendJson(res, 415, { error: 'unsupported_media_type', message: 'Post MCP messages as JSON (Content-Type: application/json).' });
      return;
    }
    const requestId = req.headers['x-request-id'];
    try {
      session.transport.receive(body, { authInfo: callerAuthInfo(session.caller, typeof requestId === 'string' ? requestId : undefined, req.headers) });
    } catch (error) {
      sendJson(res, 400, { error: 'invalid_message', message: (error as Error).message });
      return;
    }
    res.writeHead(202).end('Accepted');
  }

  /** SESSION_LIMIT when this client, or its tenant, already has as many sessions here as the caps allow. */
  #refuseOverCap(principal: Principal, client: string, kind: 'session' | 'stream' = 'session'): void {
    const { maxSessionsPerDevice, maxSessionsPerTenant } = this.#limits;
    const held = kind === 'session' ? 'SSE sessions' : 'SSE sessions and subscriptions/listen streams';
    const what =
      this.#perClient.get(client) >= maxSessionsPerDevice
        ? `This client (one device of tenant "${principal.tenant}") already has ${maxSessionsPerDevice} ${held} open on this gateway instance, the most SSE_MAX_SESSIONS_PER_DEVICE allows.`
        : this.#perTenant.get(principal.tenant) >= maxSessionsPerTenant
          ? `Tenant "${principal.tenant}" already has ${maxSessionsPerTenant} ${held} open on this gateway instance, the most SSE_MAX_SESSIONS_PER_TENANT allows.`
          : undefined;
    if (what === undefined) return;
    throw new GatewayError(
      'SESSION_LIMIT',
      kind === 'session'
        ? `${what} Close sessions this client no longer uses (idle ones close by themselves after SSE_IDLE_TIMEOUT_MS), reuse an open one, or connect to /mcp (Streamable HTTP keeps no session); the operator can raise the limit.`
        : `${what} Close listen streams or sessions this client no longer uses, or watch more resources with one stream (up to 32); the operator can raise the limit.`,
    );
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
    for (const close of [...this.#streams.keys()]) close();
    await Promise.all([...this.#sessions.values()].map((s) => s.transport.close()));
  }
}
