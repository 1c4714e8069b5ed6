// Opens the database the configuration names: FALKORDB_CLUSTER_URLS, FALKORDB_SENTINELS, FALKORDB_URL
// (with its read replicas, if any), or the embedded
// server (started here and owned by the caller, or, for CLI commands, one a
// running gateway already owns on the same data dir).

import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import { connectCluster } from './cluster.js';
import { connectDatabase } from './connection.js';
import type { Database } from './database.js';
import { databaseLimits, ensureDatabaseLimits, type DatabaseLimit } from './db-limits.js';
import { readEmbeddedState, startEmbeddedFalkorDB } from './launcher.js';
import { LimitsKeeper, limitNodesOf } from './node-limits.js';
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

// A cluster's nodes, or the primary the sentinels name, are checked again this often (a
// restart the gateway's connections do not see: a cluster replica, a Sentinel primary back
// before a failover), besides whenever a connection is remade or a new primary named.
const LIMITS_SWEEP_MS = 15_000;
const CLUSTER_SWEEP_RETRY_MS = 1_000;
const CLUSTER_SWEEP_RETRIES = 30;

export async function openDatabase(config: Config, logger: Logger, options: OpenOptions = {}): Promise<OpenedDatabase> {
  const limits = databaseLimits({ ...config.query, maxConcurrentPerTenant: config.limits.maxConcurrentPerTenant });
  const mode = config.falkordb.limitsMode;
  // After start-up, servers that join, restart or are promoted get the limits too (node-limits.ts).
  const keeper = options.limits === false || mode === 'off' ? undefined : new LimitsKeeper(limits, mode, logger);
  const opened = await open(config, logger, options, limits, keeper);
  if (opened.embedded || options.limits === false) return opened;
  try {
    await ensureDatabaseLimits(mode === 'off' ? [] : await limitNodesOf(opened.db), limits, mode, logger);
  } catch (error) {
    await opened.close();
    throw error;
  }
  keeper?.startedUp();
  return opened;
}

async function open(config: Config, logger: Logger, options: OpenOptions, limits: readonly DatabaseLimit[], keeper: LimitsKeeper | undefined): Promise<OpenedDatabase & { embedded?: boolean }> {
  const { url, clusterUrls, dataDir, serverBin, connectTimeoutMs } = config.falkordb;
  if (clusterUrls !== undefined) {
    const cluster: { db?: Database; retry?: NodeJS.Timeout; tries: number } = { tries: 0 };
    // When a node connection is (re)made (a restart, a new primary), and while some node does not answer yet.
    const sweep = () => {
      const { db } = cluster;
      if (keeper === undefined || db === undefined) return;
      void keeper.sweep(() => limitNodesOf(db)).then((answered) => {
        clearTimeout(cluster.retry);
        cluster.tries = answered ? 0 : cluster.tries + 1;
        if (!answered && cluster.tries <= CLUSTER_SWEEP_RETRIES) cluster.retry = setTimeout(sweep, CLUSTER_SWEEP_RETRY_MS).unref();
      });
    };
    const db = await connectCluster({ urls: clusterUrls, connectTimeoutMs, logger, onNodeChange: sweep });
    cluster.db = db;
    const timer = keeper === undefined ? undefined : setInterval(sweep, LIMITS_SWEEP_MS).unref();
    return {
      db,
      description: `${db.address}, FalkorDB ${db.moduleVersion}`,
      close: () => {
        clearInterval(timer);
        clearTimeout(cluster.retry);
        return db.close();
      },
    };
  }
  if (config.falkordb.sentinel !== undefined) {
    const onNewPrimary = keeper === undefined ? {} : { onNewPrimary: (node: Database, address: string) => keeper.admit(node, address) };
    const db = await connectSentinel({ ...config.falkordb.sentinel, connectTimeoutMs, logger, ...onNewPrimary });
    const timer = keeper === undefined ? undefined : setInterval(() => void keeper.sweep(async () => (db.isReady ? [{ address: db.address, node: db }] : [])), LIMITS_SWEEP_MS).unref();
    return {
      db,
      description: `${db.address}, FalkorDB ${db.moduleVersion}`,
      close: () => {
        clearInterval(timer);
        return db.close();
      },
    };
  }
  if (url !== undefined) {
    const connected: { db?: Database } = {};
    // A restarted primary has lost what GRAPH.CONFIG SET gave it.
    const onReconnect = keeper === undefined ? {} : { onReconnect: () => void keeper.sweep(async () => (connected.db === undefined ? [] : [{ address: connected.db.address, node: connected.db }])) };
    const primary = await connectDatabase({ url, connectTimeoutMs, logger, ...onReconnect });
    connected.db = primary;
    const { replicaUrls, readAfterWriteMs } = config.falkordb;
    if (replicaUrls.length === 0) return { db: primary, description: `${primary.address}, FalkorDB ${primary.moduleVersion}`, close: () => primary.close() };
    const urls = replicaUrls.map((replica) => withCredentialsOf(replica, url));
    const admit = keeper === undefined ? {} : { admit: (node: Database, address: string) => keeper.admit(node, address) };
    const db = await openReplicatedDatabase({ primary, urls, readAfterWriteMs, connectTimeoutMs, logger, ...admit });
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
