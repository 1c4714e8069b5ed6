// `serve`: run the gateway until SIGTERM/SIGINT.

import { loadConfig } from '../config.js';
import { DEV_TENANT, DEV_TOKEN_TTL_SECONDS, startGateway } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { GATEWAY_VERSION } from '../version.js';
import { devBanner } from './client-configs.js';

export async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel);
  const gateway = await startGateway({ config, logger });
  if (gateway.devToken !== undefined) {
    process.stdout.write(
      devBanner({
        mcpUrl: gateway.mcpUrl,
        token: gateway.devToken,
        version: GATEWAY_VERSION,
        database: gateway.database.description,
        tenant: DEV_TENANT,
        scopes: 'read write admin',
        ttlHours: DEV_TOKEN_TTL_SECONDS / 3600,
      }) + '\n',
    );
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    gateway
      .stop()
      .then(() => {
        logger.info('stopped');
        logger.flush(() => process.exit(0));
      })
      .catch((error: unknown) => {
        logger.error({ err: String(error) }, 'shutdown failed');
        logger.flush(() => process.exit(1));
      });
  };
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading');
    void gateway.reload().then(() => logger.info('reloaded'));
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
