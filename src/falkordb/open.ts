// Opens the database the configuration names: FALKORDB_CLUSTER_URLS, FALKORDB_SENTINELS, FALKORDB_URL
// (with its read replicas, if any), or the embedded
// server (started here and owned by the caller, or, for CLI commands, one a
// running gateway already owns on the same data dir).

import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { connectCluster } from './cluster.js';
import { connectDatabase } from './connection.js';
import type { Database } from './database.js';
import { databaseLimits, ensureDatabaseLimits, type DatabaseLimit } from './db-limits.js';
import { readEmbeddedState, startEmbeddedFalkorDB } from './launcher.js';
import { openReplicatedDatabase, withCredentialsOf } from './replicas.js';
import { connectSentinel } from './sentinel.js';

export interface OpenedDatabase {
  db: Database;
  /** Human-readable description of where the data lives. */
  description: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  allowInstall?: boolean;
  reuseRunning?: boolean;
  /** Apply or check FalkorDB's own limits on a server the gateway did not start (DATABASE_LIMITS); default true. */
  limits?: boolean;
}

export async function openDatabase(config: Config, logger: Logger, options: OpenOptions = {}): Promise<OpenedDatabase> {
  const limits = databaseLimits({ ...config.query, maxConcurrentPerTenant: config.limits.maxConcurrentPerTenant });
  const opened = await open(config, logger, options, limits);
  if (opened.embedded || options.limits === false) return opened;
  try {
    await ensureDatabaseLimits(opened.db, limits, config.falkordb.limitsMode, logger);
  } catch (error) {
    await opened.close();
    throw error;
  }
  return opened;
}

async function open(config: Config, logger: Logger, options: OpenOptions, limits: readonly DatabaseLimit[]): Promise<OpenedDatabase & { embedded?: boolean }> {
  const { url, clusterUrls, dataDir, serverBin, connectTimeoutMs } = config.falkordb;
  if (clusterUrls !== undefined) {
    const db = await connectCluster({ urls: clusterUrls, connectTimeoutMs, logger });
    return { db, description: `${db.address}, FalkorDB ${db.moduleVersion}`, close: () => db.close() };
  }
  if (config.falkordb.sentinel !== undefined) {
    const db = await connectSentinel({ ...config.falkordb.sentinel, connectTimeoutMs, logger });
    return { db, description: `${db.address}, FalkorDB ${db.moduleVersion}`, close: () => db.close() };
  }
  if (url !== undefined) {
    const primary = await connectDatabase({ url, connectTimeoutMs, logger });
    const { replicaUrls, readAfterWriteMs } = config.falkordb;
    if (replicaUrls.length === 0) return { db: primary, description: `${primary.address}, FalkorDB ${primary.moduleVersion}`, close: () => primary.close() };
    const urls = replicaUrls.map((replica) => withCredentialsOf(replica, url));
    const db = await openReplicatedDatabase({ primary, urls, readAfterWriteMs, connectTimeoutMs, logger });
    const replicas = `${replicaUrls.length} read ${replicaUrls.length === 1 ? 'replica' : 'replicas'} (${db.readReplicas.length} ready)`;
    return { db, description: `${db.address} with ${replicas}, FalkorDB ${db.moduleVersion}`, close: () => db.close() };
  }
  if (options.reuseRunning) {
    const state = await readEmbeddedState(dataDir);
    if (state !== undefined) {
      const db = await connectDatabase({ url: state.url, password: state.password, connectTimeoutMs, logger });
      return { db, embedded: true, description: `embedded (owned by gateway pid ${state.ownerPid}), data in ${dataDir}`, close: () => db.close() };
    }
  }
  const embedded = await startEmbeddedFalkorDB({ dataDir, serverBin, logger, allowInstall: options.allowInstall ?? true, limits });
  let db: Database;
  try {
    db = await connectDatabase({ url: embedded.url, password: embedded.password, connectTimeoutMs, logger });
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  return {
    db,
    embedded: true,
    description: `embedded FalkorDB ${embedded.moduleVersion}, data in ${dataDir}`,
    close: async () => {
      await db.close();
      await embedded.stop();
    },
  };
}
