// Wires config → database → token verifier → HTTP listener, and takes it all
// down again in reverse order. No globals: tests start several in one process.

import { createAdmission } from './admission/index.js';
import { createAccessPolicy } from './auth/access-policy.js';
import { TokenIssuer } from './auth/issue.js';
import { loadOwnKeys } from './auth/own-keys.js';
import type { SigningKey } from './auth/signing.js';
import { createTenantKeyResolver } from './auth/tenant-keys.js';
import { createTokenVerifier } from './auth/verify.js';
import { publicBaseUrl, type Config } from './config/index.js';
import { openDatabase, type OpenedDatabase } from './falkordb/open.js';
import { checkPortFree, listenOn, type ListenerNames } from './http/listen.js';
import { createNetworkGuard } from './http/network.js';
import { registrationLimiter, type OAuthEndpoints } from './http/oauth-routes.js';
import { createInteractions } from './oauth/interaction.js';
import { createOAuthServer } from './oauth/provider.js';
import { createUpstreamSignIn, UPSTREAM_CALLBACK_PATH } from './oauth/upstream.js';
import { createGatewayHttpServer } from './http/server.js';
import { createTlsReloader, plainHttpWarning, readTlsPair, tlsFiles } from './http/tls.js';
import type { Logger } from './logger.js';
import { createGatewayMetrics, METRICS_LISTENER } from './http/metrics-server.js';
import { startTracing } from './observability/tracing.js';
import { createUsageRecorder, type UsageRecorder } from './observability/usage.js';
import { SHUTDOWN_STEP_TIMEOUT_MS, ShutdownSequence } from './shutdown.js';
import { announceGateway, presenceFacts } from './auth/gateways.js';
import { openGatewayState, type GatewayState } from './gateway-state.js';
import { openGraphAccess, type OpenedGraphAccess } from './placement.js';
import { GATEWAY_VERSION } from './version.js';

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  /** May the embedded launcher install a server package (apt) when none is found. */
  allowInstall?: boolean;
}

export interface RunningGateway {
  /** Base URL, e.g. http://127.0.0.1:3003 */
  url: string;
  port: number;
  /** The MCP endpoint. */
  mcpUrl: string;
  /** Dev mode only: a ready token for tenant `demo`. */
  devToken: string | undefined;
  signingKey: SigningKey | undefined;
  database: OpenedDatabase;
  /** Shared state (tenant registry, token ledger), as this instance sees it. */
  state: GatewayState;
  /** Present when the gateway signs its own tokens. */
  issuer: TokenIssuer | undefined;
  /** This instance's usage counters; flush() writes what it has gathered. */
  usage: UsageRecorder;
  /** Where Prometheus scrapes (METRICS_HOST:METRICS_PORT/metrics); undefined with METRICS_PORT=off. */
  metricsUrl: string | undefined;
  /** SIGHUP: reread what can change without a restart (TLS certificate, audit log file). */
  reload(): Promise<void>;
  /**
   * Takes the gateway down within about SHUTDOWN_TIMEOUT_MS + SHUTDOWN_MARGIN_MS, whatever it
   * waits for; a step that did not finish in time is left behind (see pendingShutdown). Never rejects.
   */
  stop(): Promise<void>;
  /** The shutdown steps started and not finished, e.g. ["in-flight calls (2)"]: what a forced exit leaves behind. */
  pendingShutdown(): string[];
}

export const DEV_TENANT = 'demo';
/** What shutdown may take beyond SHUTDOWN_TIMEOUT_MS: closing streams, connections, flushes and the database. */
export const SHUTDOWN_MARGIN_MS = 5_000;
export const DEV_TOKEN_TTL_SECONDS = 24 * 3600;

const MAIN_LISTENER: ListenerNames = { hostVariable: 'HOST', portVariable: 'PORT' };

/** The other listener's port, never to be suggested for this one. */
function listenerNames(config: Config): { main: ListenerNames; metrics: ListenerNames } {
  const metricsPort = config.metrics.port;
  return {
    main: { ...MAIN_LISTENER, reserved: metricsPort === 'off' ? [] : [metricsPort] },
    metrics: { ...METRICS_LISTENER, reserved: [config.http.port] },
  };
}

/** A taken PORT or explicit METRICS_PORT stops start-up before any database is opened or launched. */
async function checkListenPorts(config: Config): Promise<void> {
  const names = listenerNames(config);
  await checkPortFree(config.http.host, config.http.port, names.main);
  // A default METRICS_PORT that is taken moves to a free port when the listener starts (two gateways on one machine).
  if (config.metrics.port !== 'off' && config.metrics.portExplicit) await checkPortFree(config.metrics.host, config.metrics.port, names.metrics);
}

/** The authorization server and its sign-in pages, made on first use: its issuer is the base URL, known once the listener is bound. */
function oauthEndpoints(config: Config, state: GatewayState, issuer: TokenIssuer, signingKey: SigningKey, logger: Logger, baseUrl: () => string): () => Promise<OAuthEndpoints> {
  let made: Promise<OAuthEndpoints> | undefined;
  const upstream = config.oauth.upstream;
  return () => {
    made ??= createOAuthServer({ baseUrl: baseUrl(), config: config.oauth, trustProxy: config.network.trustProxy !== false, state, issuer, signingKey, logger }).then((server) => ({
      server,
      interactions: createInteractions({
        oauth: server,
        state,
        logger,
        codeAttempts: config.oauth.codeAttempts,
        requireRegistration: config.tenants.requireRegistration,
        ...(upstream === undefined ? {} : { upstream: { config: upstream, signIn: createUpstreamSignIn({ config: upstream, baseUrl: baseUrl(), store: state.store, logger }) } }),
      }),
      registrations: registrationLimiter(),
    }));
    return made;
  };
}

export async function startGateway({ config, logger, allowInstall = true }: GatewayOptions): Promise<RunningGateway> {
  // A bad certificate pair, or a taken port, stops start-up before a database is opened or launched.
  const tls = tlsFiles(config.network);
  const tlsOptions = tls === undefined ? undefined : readTlsPair(tls);
  await checkListenPorts(config);
  const database = await openDatabase(config, logger, { allowInstall });
  const shutdown = new ShutdownSequence(logger);
  // Closing the database (and stopping an embedded server, which saves first) may use what is left of the budget.
  shutdown.add('database', () => database.close(), Number.POSITIVE_INFINITY);
  const unwind = () => shutdown.run(config.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS);
  try {
    const { signingKey, verifying: ownKeys } = await loadOwnKeys(config);
    // Made after the metrics, which read its targets at scrape time.
    const made: { graphs?: OpenedGraphAccess } = {};
    const state = openGatewayState(database.db, logger, config.audit);
    shutdown.add('audit flush', () => state.audit.close());
    // Built before the verifier, which reports JWKS failures to it; `http` is only read at scrape time, once it exists.
    const observed = createGatewayMetrics(config.metrics, {
      database: database.db,
      audit: state.audit,
      sessions: () => http.sessions.size,
      inFlight: () => http.inFlight.count,
      instanceName: config.instance.name,
      targets: () => made.graphs?.targets,
      logger,
    });
    const { metrics } = observed;
    let boundPort = config.http.port;
    const baseUrl = () => publicBaseUrl(config, boundPort);
    const verifier = await createTokenVerifier({
      auth: config.auth,
      resource: () => `${baseUrl()}/mcp`,
      ownKeys,
      tenantKeys: createTenantKeyResolver(state.tenants, { defaultIssuer: config.auth.issuer }),
      onJwksFailure: () => metrics.jwksFailure(),
    });
    const usage = createUsageRecorder({ store: state.store, tenants: state.tenants, config, logger });
    // Unwound after the listener has drained (its step comes later) and before the database closes: the last counts get written.
    shutdown.add('usage flush', () => usage.close());
    const policy = createAccessPolicy({ state, requireRegistration: config.tenants.requireRegistration });
    shutdown.add('policy change stream', () => Promise.resolve(policy.close()));
    const issuer = signingKey === undefined ? undefined : new TokenIssuer({ signingKey, state, auth: config.auth, requireRegistration: config.tenants.requireRegistration });
    const admission = createAdmission({ config, state, logger });
    const graphs = await openGraphAccess({ config, database: database.db, logger, metrics, state, policy, concurrency: admission.concurrency });
    made.graphs = graphs;
    shutdown.add('tenant connections', () => graphs.close());
    // Reached in the background: a target down at start-up fails only its tenants' calls, and is tried again.
    for (const name of graphs.targets.names) graphs.targets.open(name).catch(() => undefined);
    const oauth = signingKey === undefined || issuer === undefined || !config.oauth.server ? undefined : oauthEndpoints(config, state, issuer, signingKey, logger, baseUrl);
    // Unwound after the in-flight calls (a later step): their spans are sent before the exporter stops.
    const tracing = config.tracing === undefined ? undefined : await startTracing(config.tracing, GATEWAY_VERSION, logger);
    if (tracing !== undefined) shutdown.add('trace export', () => tracing.shutdown());
    const http = createGatewayHttpServer({
      config,
      logger,
      verifier,
      policy,
      issuer,
      oauth,
      jwks: ownKeys.map((k) => k.jwk),
      database: database.db,
      graphAccess: graphs.graphAccess,
      targets: graphs.targets,
      network: createNetworkGuard(config, baseUrl),
      admission,
      audit: state.audit,
      metrics,
      usage,
      versions: { gateway: GATEWAY_VERSION, falkordb: database.db.moduleVersion },
      baseUrl,
      authorizationServers: () => (oauth !== undefined ? [baseUrl()] : /^https?:\/\//.test(config.auth.issuer) ? [config.auth.issuer] : []),
      tls: tlsOptions,
      tracer: tracing?.calls,
    });
    const { server, sessions } = http;
    boundPort = await listenOn(server, config.http.host, config.http.port, listenerNames(config).main);
    // Stop accepting, let in-flight calls finish (up to SHUTDOWN_TIMEOUT_MS), then close streams and connections.
    let closed: Promise<void> = Promise.resolve();
    shutdown.add('connections', async () => {
      await sessions.closeAll();
      server.closeAllConnections();
      await closed;
    });
    shutdown.add(
      'in-flight calls',
      async () => {
        http.beginShutdown();
        closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const drained = await http.inFlight.idle(config.shutdownTimeoutMs);
        if (!drained) logger.warn({ inFlight: http.inFlight.count, timeoutMs: config.shutdownTimeoutMs }, 'shutdown timeout reached; cutting off calls still in flight');
      },
      config.shutdownTimeoutMs + SHUTDOWN_STEP_TIMEOUT_MS,
    );
    const describe = (steps: string[]) =>
      steps.map((step) => {
        if (step === 'in-flight calls') return `${step} (${http.inFlight.count})`;
        if (step === 'connections') return `${step} (${sessions.size} SSE ${sessions.size === 1 ? 'stream' : 'streams'})`;
        return step;
      });
    const metricsListener = await observed.listen();
    if (metricsListener !== undefined) shutdown.add('metrics listener', () => metricsListener.close());
    const url = baseUrl();
    // Withdrawn first at shutdown; read by the CLI, which refuses to mint tokens no running instance accepts.
    const facts = await presenceFacts(config, { signingKey, verifying: ownKeys }, { url, database: database.description, version: GATEWAY_VERSION });
    const announcement = await announceGateway(state.store, facts, (e: unknown) => logger.warn({ err: String(e) }, 'could not renew this instance\'s announcement in the shared state'));
    shutdown.add('announcement', () => announcement.withdraw());
    logger.info({ url: `${url}/mcp`, falkordb: database.db.moduleVersion, devMode: config.auth.devMode }, 'gateway listening');
    if (oauth !== undefined && config.oauth.upstream !== undefined) {
      logger.info({ issuer: config.oauth.upstream.issuer, redirectUri: `${url}${UPSTREAM_CALLBACK_PATH}` }, 'connectors may also sign in at the upstream OpenID provider; its client must allow this redirect URI');
    }
    const plainHttp = plainHttpWarning(config);
    if (plainHttp !== undefined) logger.warn(plainHttp);

    const devToken =
      config.auth.devMode && issuer
        ? (await issuer.issue({ tenant: DEV_TENANT, scopes: ['read', 'write', 'admin'], ttlSec: DEV_TOKEN_TTL_SECONDS, device: 'dev', actor: 'serve' })).accessToken
        : undefined;

    // Each step rereads one thing; one failing (e.g. a half-written certificate) must not stop the others.
    const reloaders: Array<() => Promise<void>> = [];
    reloaders.push(() => state.audit.reopen());
    if (tls !== undefined) reloaders.push(createTlsReloader(server, tls));
    const reload = async () => {
      for (const step of reloaders) await step().catch((e: unknown) => logger.error({ err: e instanceof Error ? e.message : String(e) }, 'reload step failed; keeping the previous state'));
    };

    return {
      url,
      port: boundPort,
      mcpUrl: `${url}/mcp`,
      devToken,
      signingKey,
      database,
      state,
      issuer,
      usage,
      metricsUrl: metricsListener?.url,
      reload,
      stop: () => unwind().then(() => undefined),
      pendingShutdown: () => describe(shutdown.pending()),
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}
