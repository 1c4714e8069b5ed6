// Starts a gateway in-process on a real FalkorDB, on a free loopback port.

import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { createLogger } from '../../src/logger.js';
import { TEST_SECRET } from './tokens.js';

export async function startTestGateway(falkordbUrl: string, env: Record<string, string> = {}, logTo?: Writable): Promise<RunningGateway> {
  const config = loadConfig({
    FALKORDB_URL: falkordbUrl,
    AUTH_JWT_SECRET: TEST_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: logTo === undefined ? 'silent' : 'trace',
    // Tests run in parallel: no fixed metrics port (tests that need one pass METRICS_PORT: '0').
    METRICS_PORT: 'off',
    // Refresh stress tests send hundreds of token requests a minute from one address (tests of that limit set it).
    TOKEN_REQUESTS_PER_MINUTE: '0',
    ...env,
  });
  return startGateway({ config, logger: createLogger(config.logLevel, logTo ?? 1), allowInstall: false });
}

/** A stream that keeps everything written to it, for tests that read the logs. */
export function captureLog(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}
