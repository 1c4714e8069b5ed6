// Starts a gateway in-process on a real FalkorDB, on a free loopback port.

import { loadConfig } from '../../src/config.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { TEST_SECRET } from './tokens.js';

export async function startTestGateway(falkordbUrl: string, env: Record<string, string> = {}): Promise<RunningGateway> {
  const config = loadConfig({
    FALKORDB_URL: falkordbUrl,
    AUTH_JWT_SECRET: TEST_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
  return startGateway({ config, logger: createLogger(config.logLevel), allowInstall: false });
}
