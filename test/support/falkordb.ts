// Starts a real FalkorDB (through the embedded launcher) in a fresh temp folder for a test,
// and a silent logger for code under test.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { queryThreads } from '../../src/falkordb/db-limits.js';
import { startEmbeddedFalkorDB, type EmbeddedFalkorDB } from '../../src/falkordb/launcher.js';
import { freeLoopbackPort } from './ports.js';
import { createLogger, type Logger } from '../../src/logger.js';

if (process.env.GATEWAY_TEST_TIER === 'unit') {
  throw new Error('test/support/falkordb.ts starts a real FalkorDB, and the unit tier (npm run test:unit) runs without one: move this test to test/.');
}

export interface TestFalkorDB {
  /** `redis://:PASSWORD@127.0.0.1:PORT`, or the unix socket path (then use `password`). */
  url: string;
  password: string;
  /** The TCP port, or undefined in unix socket mode. */
  port: number | undefined;
  dataDir: string;
  moduleVersion: string;
  stop(): Promise<void>;
  /** Stops and starts again on the same port, data and password. */
  restart(): Promise<void>;
  /** Stops the server and removes its data folder. */
  cleanup(): Promise<void>;
}

/**
 * The query threads every test server starts with: what the gateway needs for its
 * default per-tenant cap (DATABASE_LIMITS refuses a server with fewer), as the embedded server gets.
 */
export const TEST_THREAD_COUNT = queryThreads(loadConfig({}).limits.maxConcurrentPerTenant);

export function testLogger(): Logger {
  return createLogger('silent');
}

export async function startTestFalkorDB(options: { tcp?: boolean; threads?: number } = {}): Promise<TestFalkorDB> {
  const tcp = options.tcp ?? true;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'falkordb-test-'));
  const port = tcp ? await freeLoopbackPort() : undefined;
  const password = randomBytes(16).toString('hex');
  const launch = (): Promise<EmbeddedFalkorDB> =>
    startEmbeddedFalkorDB({ dataDir, logger: testLogger(), tcpPort: port, password, allowInstall: false, limits: [{ name: 'THREAD_COUNT', value: options.threads ?? TEST_THREAD_COUNT, satisfied: () => true }] });

  let server: EmbeddedFalkorDB | undefined;
  try {
    server = await launch();
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const first = server;
  const stop = async (): Promise<void> => {
    await server?.stop();
    server = undefined;
  };
  return {
    url: tcp ? `redis://:${password}@127.0.0.1:${port}` : first.url,
    password,
    port,
    dataDir,
    moduleVersion: first.moduleVersion,
    stop,
    restart: async () => {
      await stop();
      server = await launch();
    },
    cleanup: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every key and the content of every stream, string, hash, list and set the database holds, as one text. */
export async function databaseText(db: { sendCommand(args: string[]): Promise<unknown> }): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = (await db.sendCommand(['SCAN', cursor, 'COUNT', '1000'])) as [string, string[]];
    cursor = String(next);
    for (const key of keys) {
      parts.push(key);
      const type = String(await db.sendCommand(['TYPE', key]));
      if (type === 'stream') parts.push(JSON.stringify(await db.sendCommand(['XRANGE', key, '-', '+'])));
      if (type === 'string') parts.push(String(await db.sendCommand(['GET', key])));
      if (type === 'hash') parts.push(JSON.stringify(await db.sendCommand(['HGETALL', key])));
      if (type === 'list') parts.push(JSON.stringify(await db.sendCommand(['LRANGE', key, '0', '-1'])));
      if (type === 'set') parts.push(JSON.stringify(await db.sendCommand(['SMEMBERS', key])));
      if (type === 'zset') parts.push(JSON.stringify(await db.sendCommand(['ZRANGE', key, '0', '-1'])));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}
