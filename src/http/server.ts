// The main listener: routes, in the order of the request path (authenticate,
// scope, then the MCP transport), and one access-log line per request.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ServerOptions as TlsServerOptions } from 'node:https';
import { rateLimitHeadersOf, type Admission } from '../admission/index.js';
import { createAuthFailureLimit } from '../admission/refusal-limit.js';
import { isAccessRefusal, type AccessPolicy } from '../auth/access-policy.js';
import type { TokenIssuer } from '../auth/issue.js';
import type { Principal } from '../tenancy/principal.js';
import { requireScope } from '../tenancy/scopes.js';
import type { TokenVerifier } from '../auth/verify.js';
import type { Config } from '../config/index.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Database } from '../falkordb/database.js';
import { replicaNodesOf } from '../falkordb/replicas.js';
import type { AuditTrail } from '../observability/audit.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { UsageRecorder } from '../observability/usage.js';
import { redactUrl, type Logger } from '../logger.js';
import type { Caller } from '../tools/context.js';
import type { GraphAccess } from '../tools/graph-access.js';
import { networkToolServices, type NetworkToolDeps } from '../tools/services.js';
import type { JWK } from 'jose';
import { authenticate, presentedToken } from './authenticate.js';
import { readJsonBody } from './body.js';
import { InFlight } from '../in-flight.js';
import { servesTenants } from '../tenancy/tenant-id.js';
import type { NetworkGuard } from './network.js';
import { isOAuthPath, serveOAuth, type OAuthEndpoints } from './oauth-routes.js';
import { handleTokenRequest } from './oauth-token.js';
import { sendError, sendJson, setSecurityHeaders } from './respond.js';
import { SseSessions } from './sse.js';
import { createStreamableEndpoint } from './streamable.js';
import { createHttpListener } from './tls.js';
import { PRODUCT_NAME } from '../product.js';

export interface HttpDeps {
  config: Config;
  logger: Logger;
  verifier: TokenVerifier;
  policy: AccessPolicy;
  /** Present when the gateway signs its own tokens: serves /oauth/token. */
  issuer: TokenIssuer | undefined;
  /** The authorization server (OAUTH_SERVER, when the gateway signs its own tokens), made on first use. */
  oauth?: (() => Promise<OAuthEndpoints>) | undefined;
  /** Public keys of the gateway's own signing keys (current and previous), for /.well-known/jwks.json. */
  jwks: readonly JWK[];
  /** The gateway's own database connection, for readiness. */
  database: Database;
  /** The graph operations of one caller (see src/tools/graph-access.ts). */
  graphAccess: GraphAccess;
  /** The databases of DATABASE_TARGETS this instance has reached (src/placement.ts), for readiness. */
  targets?: DatabaseTargets | undefined;
  network: NetworkGuard;
  admission: Admission;
  audit: AuditTrail;
  metrics: GatewayMetrics;
  usage: UsageRecorder;
  versions: { gateway: string; falkordb: string };
  /** External base URL, e.g. http://127.0.0.1:3003 */
  baseUrl: () => string;
  /** Issuers clients can get tokens from, for the RFC 9728 metadata. */
  authorizationServers: () => string[];
  /** Certificate and key (from readTlsPair): serve HTTPS instead of HTTP. */
  tls?: TlsServerOptions | undefined;
  /** The spans of tool calls (observability/tracing.ts); absent when tracing is off. */
  tracer?: NetworkToolDeps['tracer'];
}

/** What readiness reads of the databases tenants are placed on (src/placement.ts's TargetDatabases). */
export interface DatabaseTargets {
  readonly names: readonly string[];
  connected(): Promise<Array<{ name: string; db: Pick<Database, 'ping'> }>>;
}

/** What is known of a request as it goes along, for the access log and audit events. */
interface RequestFacts {
  requestId: string;
  clientIp: string | undefined;
  principal?: Principal;
}

export interface GatewayHttpServer {
  server: Server;
  sessions: SseSessions;
  /** Requests and tool calls in progress. */
  inFlight: InFlight;
  /** Refuse new requests (503) while in-flight ones finish; the first step of a graceful shutdown. */
  beginShutdown(): void;
}

const READY_PING_TIMEOUT_MS = 1000;

/** How many targets are configured and how many answer a ping now; the names stay on the operator's side (metrics, log). */
async function targetsHealth(targets: DatabaseTargets | undefined): Promise<{ configured: number; reachable: number } | undefined> {
  if (targets === undefined || targets.names.length === 0) return undefined;
  const connected = await targets.connected();
  const answers = await Promise.all(connected.map(({ db }) => db.ping(READY_PING_TIMEOUT_MS).then(() => true, () => false)));
  return { configured: targets.names.length, reachable: answers.filter(Boolean).length };
}

export function createGatewayHttpServer(deps: HttpDeps): GatewayHttpServer {
  // Open SSE sessions and listen streams are checked again every 2 s (SseSessions): a revocation ends them even while idle.
  // Only the policy's own refusals end them: a state store that cannot answer for a moment ends nothing.
  const stillAllowed = (caller: Caller) =>
    deps.policy.check(caller.principal, caller.clientIp).catch((error: unknown) => {
      if (isAccessRefusal(error)) throw error;
    });
  const sessions = new SseSessions(deps.config.sse, Date.now, stillAllowed);
  const inFlight = new InFlight();
  let shuttingDown = false;
  const metadataUrl = () => `${deps.baseUrl()}/.well-known/oauth-protected-resource`;

  const maxBodyBytes = deps.config.limits.maxBodyBytes;

  const tools = networkToolServices({ ...deps, limits: deps.config.query, inFlight });
  const streamable = createStreamableEndpoint(tools, (caller, close) => sessions.admitStream(caller, close));

  const authenticator = {
    verifier: deps.verifier,
    policy: deps.policy,
    allowQueryToken: deps.config.auth.allowQueryToken,
    headerName: deps.config.auth.headerName,
    failures: createAuthFailureLimit(deps.config.refusals.authFailuresPerMinute),
    serves: servesTenants(deps.config.instance.serveTenants),
  };

  /** Authenticates, then counts the request against the tenant's rate. */
  async function admit(req: IncomingMessage, res: ServerResponse, url: URL, log: RequestFacts): Promise<Principal> {
    const principal = await authenticate(req, url, authenticator, log.clientIp, (verified) => (log.principal = verified));
    requireScope(principal, 'read', 'Every tool');
    deps.metrics.authenticated(principal);
    const headers = await deps.admission.admitRequest(principal);
    deps.usage.request(principal.tenant);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    return principal;
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, log: RequestFacts): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/healthz' && method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz' && method === 'GET') {
      // Degraded (primary down, replicas serving reads) still answers 200: the instance serves every read.
      const readReplicas = replicaNodesOf(deps.database)?.nodes().replicas.filter((r) => r.inRotation).length ?? 0;
      if (deps.database.primaryAvailable === false && readReplicas > 0) {
        return sendJson(res, 200, {
          status: 'degraded',
          reason: 'The primary database server does not answer: read-only calls are served from the read replicas, writes are refused (PRIMARY_UNAVAILABLE) until it is back.',
          database: { reachable: false, readReplicas },
        });
      }
      // With a token: the caller's own database, wherever its tenant is placed.
      if (req.headers[authenticator.headerName.toLowerCase()] !== undefined) {
        const principal = await authenticate(req, url, authenticator, log.clientIp, (verified) => (log.principal = verified));
        try {
          const latencyMs = await deps.graphAccess(principal).database.ping(READY_PING_TIMEOUT_MS);
          return sendJson(res, 200, { status: 'ready', database: { reachable: true, latencyMs } });
        } catch {
          return sendJson(res, 503, { status: 'unavailable', reason: 'Your database does not answer.' });
        }
      }
      let latencyMs: number;
      try {
        latencyMs = await deps.database.ping(READY_PING_TIMEOUT_MS);
      } catch {
        return sendJson(res, 503, { status: 'unavailable', reason: 'The database does not answer.' });
      }
      const targets = await targetsHealth(deps.targets);
      if (targets !== undefined && targets.reachable < targets.configured) {
        // Still 200: the instance serves every tenant on the databases that answer.
        return sendJson(res, 200, { status: 'degraded', reason: `${targets.configured - targets.reachable} of the ${targets.configured} database targets (DATABASE_TARGETS) do not answer: the tenants placed there get DATABASE_UNREACHABLE; the others are served.`, database: { reachable: true, latencyMs }, targets });
      }
      return sendJson(res, 200, { status: 'ready', database: { reachable: true, latencyMs }, ...(targets === undefined ? {} : { targets }) });
    }
    if (path.startsWith('/.well-known/oauth-protected-resource') && method === 'GET') {
      return sendJson(res, 200, {
        resource: `${deps.baseUrl()}/mcp`,
        authorization_servers: deps.authorizationServers(),
        scopes_supported: ['read', 'write', 'admin'],
        bearer_methods_supported: deps.config.auth.allowQueryToken ? ['header', 'query'] : ['header'],
        resource_name: PRODUCT_NAME,
      });
    }

    if (path === '/.well-known/jwks.json' && method === 'GET') {
      if (deps.jwks.length === 0) return sendJson(res, 404, { error: 'not_found', message: 'This gateway does not sign tokens itself, so it publishes no keys.' });
      return sendJson(res, 200, { keys: deps.jwks }, { 'Cache-Control': 'public, max-age=300' });
    }
    if (path === '/oauth/token') {
      if (deps.issuer === undefined) return sendJson(res, 404, { error: 'not_found', message: 'This gateway does not issue tokens itself (no AUTH_SIGNING_KEY_FILE); get tokens from your identity provider.' });
      // Counted by address before any token work: a flood of refreshes costs one in-memory count each.
      await deps.admission.admitTokenRequest(log.clientIp);
      return handleTokenRequest(req, res, deps.issuer);
    }

    if (deps.oauth !== undefined && isOAuthPath(path)) {
      // Counted by address before any other work, as /oauth/token is.
      await deps.admission.admitTokenRequest(log.clientIp);
      return serveOAuth(await deps.oauth(), req, res, path, log.clientIp);
    }

    if (path === '/register' || path === '/authorize') {
      // OAuth bridges (mcp-remote) land here after a refused token; a 404 would send them down a misleading fallback.
      return sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'This gateway does not register OAuth clients or run an authorization flow. The token in this client\'s configuration was refused (expired, revoked, or not for this gateway): ask the operator for a new one (falkordb-mcp-gateway client-config).',
      });
    }

    if (path === '/mcp') {
      if (method !== 'POST') {
        return sendJson(res, 405, { error: 'method_not_allowed', message: 'This gateway serves stateless Streamable HTTP: send JSON-RPC with POST.' }, { Allow: 'POST' });
      }
      const principal = await admit(req, res, url, log);
      const body = await readJsonBody(req, maxBodyBytes);
      // The POST's own rate count covers its first tool call.
      return streamable.handle(req, res, body, { principal, clientIp: log.clientIp, prepaidCalls: 1 });
    }

    if ((path === '/sse' || path === '/sse/') && method === 'GET') {
      const principal = await admit(req, res, url, log);
      // A client that could only put its token on the URL gets it back on the endpoint, as every post needs one.
      const presented = presentedToken(req, url, authenticator.headerName);
      const messagesPath = presented?.via === 'query' ? `/messages?token=${encodeURIComponent(presented.token)}` : '/messages';
      await sessions.open(res, tools, { principal, clientIp: log.clientIp, prepaidCalls: 0 }, messagesPath);
      return;
    }

    if (path === '/messages' && method === 'POST') {
      // The session id is no credential: every post carries a valid token, checked before anything is said of the session.
      const caller = await authenticate(req, url, authenticator, log.clientIp, (verified) => (log.principal = verified));
      requireScope(caller, 'read', 'Every tool');
      const sessionId = url.searchParams.get('sessionId') ?? '';
      // The token that opened the session is checked again on every post: a revocation ends the session too.
      const opener = sessions.principalOf(sessionId);
      if (opener !== undefined) {
        await deps.policy.check(opener, log.clientIp).catch(async (error: unknown) => {
          await sessions.close(sessionId);
          throw error;
        });
      }
      const body = await readJsonBody(req, maxBodyBytes);
      return sessions.post(sessionId, caller, req, res, body);
    }

    sendJson(res, 404, { error: 'not_found', message: `Nothing at ${method} ${path}. MCP clients connect to /mcp (or /sse for the legacy transport).` });
  }

  const server = createHttpListener(deps.tls, (req, res) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    setSecurityHeaders(res);
    res.setHeader('X-Request-Id', requestId);
    // On the request too, where the SSE transport hands its headers to the tool call it carries (for the log).
    req.headers['x-request-id'] = requestId;
    const log: RequestFacts = { requestId, clientIp: deps.network.clientIp(req) };
    if (shuttingDown) {
      // Keep-alive connections can still carry new requests after close(): turn them away cleanly.
      return sendJson(res, 503, { error: 'shutting_down', message: 'This gateway instance is shutting down; retry, and another instance (or this one, restarted) will answer.' }, { Connection: 'close', 'Retry-After': '1' });
    }
    // An SSE stream lives until shutdown closes it; everything else is work to wait for.
    const isStream = req.method === 'GET' && /^\/sse\/?$/.test((req.url ?? '').split('?')[0] ?? '');
    if (!isStream) res.on('close', inFlight.begin());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      return sendJson(res, 400, { error: 'bad_request', message: 'The request URL could not be parsed.' });
    }
    // The access log line is built only when it will be written (LOG_LEVEL info or finer).
    if (deps.logger.isLevelEnabled('info')) {
      res.on('close', () => {
        deps.logger.info(
          {
            requestId,
            method: req.method,
            path: redactUrl(req.url ?? ''),
            status: res.statusCode,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            tenant: log.principal?.tenant,
            ip: log.clientIp,
          },
          'request',
        );
      });
    }
    const handle = async () => {
      // Address, Origin and Host are settled before any token work.
      deps.network.admit(req, log.clientIp, url.pathname);
      await route(req, res, url, log);
    };
    handle().catch((error: unknown) => {
      if (isGatewayError(error)) {
        deps.audit.requestRefused(error, { principal: log.principal, clientIp: log.clientIp, path: url.pathname });
        deps.metrics.requestRefused(error, log.principal);
        return sendError(res, error, metadataUrl(), rateLimitHeadersOf(error));
      }
      deps.logger.error({ requestId, err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'request failed');
      sendError(res, new GatewayError('INTERNAL', 'The gateway hit an unexpected error; the request was not completed.'), metadataUrl());
    });
  });
  return {
    server,
    sessions,
    inFlight,
    beginShutdown: () => {
      shuttingDown = true;
    },
  };
}
