// `serve`: run the gateway until SIGTERM/SIGINT. Shutdown is bounded: past its
// deadline, or on a second signal, the process exits 1 whatever it still waits for.

import { loadConfig } from '../config/index.js';
import { DEV_TENANT, DEV_TOKEN_TTL_SECONDS, SHUTDOWN_MARGIN_MS, startGateway } from '../main.js';
import { createLogger, finishLogging } from '../logger.js';
import { GATEWAY_VERSION } from '../version.js';
import { devBanner } from './client-configs.js';

/** Past SHUTDOWN_TIMEOUT_MS + SHUTDOWN_MARGIN_MS, by which stop() has given up on every step. */
const BACKSTOP_EXTRA_MS = 2_000;
const FINAL_LOG_WAIT_MS = 500;

export async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel);
  const gateway = await startGateway({ config, logger });
  if (gateway.devToken !== undefined) {
    process.stdout.write(
      devBanner({
        mcpUrl: gateway.mcpUrl,
        token: gateway.devToken,
        headerName: config.auth.headerName,
        version: GATEWAY_VERSION,
        database: gateway.database.description,
        tenant: DEV_TENANT,
        scopes: 'read write admin',
        ttlHours: DEV_TOKEN_TTL_SECONDS / 3600,
      }) + '\n',
    );
  }
  let stopping = false;
  const exit = (code: number) => {
    // The log is written asynchronously: give it a moment, but never wait on it for long.
    finishLogging(logger, FINAL_LOG_WAIT_MS);
    process.exit(code);
  };
  const shutdown = (signal: string) => {
    if (stopping) {
      // An operator (or supervisor) who signals again does not want to wait any longer.
      logger.warn({ signal, pending: gateway.pendingShutdown() }, 'second signal while stopping; exiting now');
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    // stop() bounds every step itself; this is the backstop should anything still hang.
    const deadlineMs = config.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS + BACKSTOP_EXTRA_MS;
    setTimeout(() => {
      logger.error({ pending: gateway.pendingShutdown(), deadlineMs }, 'shutdown did not finish in time; exiting');
      exit(1);
    }, deadlineMs);
    void gateway.stop().then(() => {
      const unfinished = gateway.pendingShutdown();
      if (unfinished.length === 0) {
        logger.info('stopped');
        exit(0);
        return;
      }
      logger.error({ pending: unfinished }, 'stopped without finishing every shutdown step; exiting');
      exit(1);
    });
  };
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading');
    void gateway.reload().then(() => logger.info('reloaded'));
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
