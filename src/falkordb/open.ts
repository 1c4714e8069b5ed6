// Opens the database the configuration names: FALKORDB_URL, or the embedded
// server (started here and owned by the caller, or, for CLI commands, one a
// running gateway already owns on the same data dir).

import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { connectDatabase } from './connection.js';
import type { Database } from './database.js';
import { readEmbeddedState, startEmbeddedFalkorDB } from './launcher.js';

export interface OpenedDatabase {
  db: Database;
  /** Human-readable description of where the data lives. */
  description: string;
  close(): Promise<void>;
}

export async function openDatabase(
  config: Config,
  logger: Logger,
  options: { allowInstall?: boolean; reuseRunning?: boolean } = {},
): Promise<OpenedDatabase> {
  const { url, dataDir, serverBin, connectTimeoutMs } = config.falkordb;
  if (url !== undefined) {
    const db = await connectDatabase({ url, connectTimeoutMs, logger });
    return { db, description: `${db.address}, FalkorDB ${db.moduleVersion}`, close: () => db.close() };
  }
  if (options.reuseRunning) {
    const state = await readEmbeddedState(dataDir);
    if (state !== undefined) {
      const db = await connectDatabase({ url: state.url, password: state.password, connectTimeoutMs, logger });
      return { db, description: `embedded (owned by gateway pid ${state.ownerPid}), data in ${dataDir}`, close: () => db.close() };
    }
  }
  const embedded = await startEmbeddedFalkorDB({ dataDir, serverBin, logger, allowInstall: options.allowInstall ?? true });
  let db: Database;
  try {
    db = await connectDatabase({ url: embedded.url, password: embedded.password, connectTimeoutMs, logger });
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  return {
    db,
    description: `embedded FalkorDB ${embedded.moduleVersion}, data in ${dataDir}`,
    close: async () => {
      await db.close();
      await embedded.stop();
    },
  };
}
