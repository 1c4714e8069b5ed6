// `stdio --tenant ID`: the same tools over stdio for one local tenant, for
// running beside a client. Logs go to stderr; stdout carries MCP only.

import { Console } from 'node:console';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Principal } from '../auth/principal.js';
import { parseScopeList } from '../auth/scopes.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../falkordb/open.js';
import { openGraphAccess } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { NO_METRICS } from '../observability/metrics.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { createMcpServer } from '../tools/index.js';
import { GATEWAY_VERSION } from '../version.js';

export async function stdio(env: NodeJS.ProcessEnv, options: { tenant: string; scope: string }): Promise<void> {
  // Libraries print with console.log now and then (node-redis's Sentinel client does on
  // connection errors); on stdout that would break the client's MCP stream.
  globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
  const config = loadConfig({ ...env, HOST: env.HOST ?? '127.0.0.1' });
  const logger = createLogger(config.logLevel, 2);
  const principal: Principal = {
    tenant: validateTenantId(options.tenant),
    subject: options.tenant,
    scopes: parseScopeList(options.scope),
    expiresAt: Number.POSITIVE_INFINITY,
    device: 'stdio',
  };
  const database = await openDatabase(config, logger, { reuseRunning: true });
  const graphs = await openGraphAccess(config, database.db, logger, NO_METRICS).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });
  const server = createMcpServer({
    principal,
    // The cache also bumps the version tokens, so gateways sharing this database see stdio's writes.
    graphs: graphs.graphAccess(principal),
    limits: config.query,
    versions: { gateway: GATEWAY_VERSION, falkordb: database.db.moduleVersion },
  });
  const transport = new StdioServerTransport();
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => undefined);
    await graphs.close();
    await database.close();
    logger.flush(() => process.exit(0));
  };
  transport.onclose = () => void close();
  process.stdin.on('end', () => void close());
  process.on('SIGTERM', () => void close());
  process.on('SIGINT', () => void close());
  await server.connect(transport);
  logger.info({ tenant: principal.tenant, scopes: principal.scopes }, 'stdio server ready');
}
