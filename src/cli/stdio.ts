// `stdio --tenant ID`: the same tools over stdio for one local tenant, for
// running beside a client. Logs go to stderr; stdout carries MCP only. Calls
// are audited, counted and checked against the tenant registry as on HTTP.

import { Console } from 'node:console';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import { createAccessPolicy } from '../auth/access-policy.js';
import type { Principal } from '../tenancy/principal.js';
import { parseScopeList } from '../tenancy/scopes.js';
import { loadConfig, type Config } from '../config/index.js';
import { embeddedDataExists, readEmbeddedState } from '../falkordb/launcher.js';
import { openDatabase } from '../falkordb/open.js';
import { InFlight } from '../in-flight.js';
import { openGraphAccess } from '../placement.js';
import { createLogger } from '../logger.js';
import { NO_METRICS } from '../observability/metrics.js';
import { createUsageRecorder } from '../observability/usage.js';
import { openGatewayState } from '../gateway-state.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import type { ToolServices } from '../tools/context.js';
import { createMcpServer } from '../tools/index.js';
import { StdioListenTransport } from '../tools/stdio-listen.js';
import { GATEWAY_VERSION } from '../version.js';

/** Whether this start will make a new, empty embedded database (nothing is saved in the data folder, and no gateway runs one there). */
function startsEmptyDatabase(config: Config): boolean {
  const { url, clusterUrls, sentinel, dataDir } = config.falkordb;
  if (url !== undefined || clusterUrls !== undefined || sentinel !== undefined) return false;
  return readEmbeddedState(dataDir) === undefined && !embeddedDataExists(dataDir);
}

/** The one line that says a client started stdio on a folder with no data, most often from another working directory. */
export function newDatabaseNotice(dataDir: string): string {
  return (
    `falkordb-mcp-gateway stdio: no database was found in ${dataDir}, so a new, empty one was created there ` +
    '(FALKORDB_DATA_DIR is ./.data of the working folder unless set). To use an existing one, set FALKORDB_DATA_DIR to its absolute path, ' +
    'or FALKORDB_URL; `falkordb-mcp-gateway client-config --transport stdio` prints an entry that does.\n'
  );
}

export async function stdio(env: NodeJS.ProcessEnv, options: { tenant: string; scope: string }): Promise<void> {
  // Libraries print with console.log now and then (node-redis's Sentinel client does on
  // connection errors); on stdout that would break the client's MCP stream.
  globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
  const config = loadConfig({ ...env, HOST: env.HOST ?? '127.0.0.1' });
  const logger = createLogger(config.logLevel, 2);
  // No token: the tenant registry still decides, so its token-free checks apply (status, registration), not revocations.
  const principal: Principal = {
    tenant: validateTenantId(options.tenant),
    subject: options.tenant,
    scopes: parseScopeList(options.scope),
    expiresAt: Number.POSITIVE_INFINITY,
    device: 'stdio',
  };
  const empty = startsEmptyDatabase(config);
  const database = await openDatabase(config, logger, { reuseRunning: true });
  if (empty) process.stderr.write(newDatabaseNotice(config.falkordb.dataDir));
  const state = openGatewayState(database.db, logger, config.audit);
  const usage = createUsageRecorder({ store: state.store, tenants: state.tenants, config, logger });
  const policy = createAccessPolicy({ state, requireRegistration: config.tenants.requireRegistration });
  const graphs = await openGraphAccess({ config, database: database.db, logger, metrics: NO_METRICS, state, policy }).catch(async (error: unknown) => {
    await usage.close();
    await state.audit.close();
    await database.close();
    throw error;
  });
  const inFlight = new InFlight();
  // The cache also bumps the version tokens, so gateways sharing this database see stdio's writes.
  const tools: ToolServices = {
    graphAccess: graphs.graphAccess,
    limits: config.query,
    versions: { gateway: GATEWAY_VERSION, falkordb: database.db.moduleVersion },
    logger,
    inFlight,
    // Checked on every call, as HTTP checks every request: `tenant disable` takes effect within the policy's second.
    admit: async (caller) => {
      const refused = await policy.tenantRefusal(caller.principal);
      if (refused !== undefined) throw refused;
      usage.request(caller.principal.tenant);
    },
    record: (caller, record) => {
      state.audit.toolCall(caller.principal, undefined, record);
      usage.toolCall(caller.principal.tenant, record);
    },
    graphRules: (caller) => policy.graphRules(caller),
    // Usage as on HTTP; no rate limit or concurrency cap applies to a local stdio server.
    tenantStats: usage.stats === undefined ? undefined : { ...usage.stats, limits: () => Promise.resolve({ ratePerMinute: 0, maxConcurrentQueries: 0 }) },
  };
  const caller = { principal, prepaidCalls: 0 };
  // The client's first message says which revision it speaks: 2025 (initialize) or 2026-07-28 (server/discover, or any request with its _meta).
  // In front of the SDK's entry: it reads listen requests (2026-07-28) to know what to watch.
  const transport = new StdioListenTransport(new StdioServerTransport(), tools, caller);
  const served = serveStdio(
    ({ era }) => {
      const server = createMcpServer(tools, caller, era === 'modern' ? 'modern' : 'legacy');
      if (era === 'modern') transport.attach(server.server);
      return server;
    },
    {
      transport,
      onerror: (error) => logger.debug({ err: error }, 'stdio protocol error'),
    },
  );
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await served.close().catch(() => undefined);
    // Calls still running finish (and leave their audit event and counts) before the database goes.
    await inFlight.idle(config.shutdownTimeoutMs);
    policy.close();
    await usage.close();
    await state.audit.close();
    await graphs.close();
    await database.close();
    logger.flush(() => process.exit(0));
  };
  process.stdin.on('end', () => void close());
  process.on('SIGTERM', () => void close());
  process.on('SIGINT', () => void close());
  const refused = await policy.tenantRefusal(principal).catch(() => undefined);
  if (refused !== undefined) logger.warn({ tenant: principal.tenant, code: refused.code }, `${refused.message} Every tool call is refused until then.`);
  logger.info({ tenant: principal.tenant, scopes: principal.scopes }, 'stdio server ready');
}
