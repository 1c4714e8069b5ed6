// Connects to a Redis/Valkey Cluster whose nodes load FalkorDB and exposes it as
// one Database: a command goes to the primary that owns its key (a graph is one
// key, so graphs spread over the shards), keyless commands to any node, and
// keyspace-wide reads (SCAN) ask every primary.

import { setTimeout as sleep } from 'node:timers/promises';
import { createCluster, type RedisClusterOptions } from '@redis/client';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { CLIENT_NAME, describeConnectFailure, isErrorReply, readGraphModuleVersion, reconnectStrategy, redactAddress, type Phase } from './connection.js';
import { ClusterDatabase, type Cluster } from './cluster-database.js';
import type { Database } from './database.js';

export interface ClusterConnectOptions {
  /** Seed nodes, `redis://[user:pass@]host:port` or `rediss://…`; the rest of the cluster is discovered from them. */
  urls: readonly string[];
  /** How long start-up keeps retrying an unreachable or not yet healthy cluster. */
  connectTimeoutMs: number;
  logger: Logger;
  /** Called when a node connection is made or remade after start (a new primary, a node that restarts). */
  onNodeChange?: () => void;
}

const SOCKET_CONNECT_TIMEOUT_MS = 5_000;
const MAX_RETRY_MS = 2_000;

/** Where the cluster is, for messages and logs: its seeds, without passwords. */
export function clusterAddress(urls: readonly string[]): string {
  return `cluster (seeds ${urls.map(redactAddress).join(', ')})`;
}


function clusterOptions(urls: readonly string[], phase: Phase, connectTimeout: number): RedisClusterOptions {
  // Discovered nodes get only host and port from the cluster: everything else
  // (credentials, TLS) comes from the defaults, so every seed must agree on them (src/config/parsers.ts checks).
  const first = new URL(urls[0]!);
  const tls = first.protocol === 'rediss:';
  const rootNodes = urls.map((url) => {
    const parsed = new URL(url);
    return { socket: { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) } };
  });
  return {
    rootNodes,
    useReplicas: false,
    defaults: {
      name: CLIENT_NAME,
      disableOfflineQueue: true,
      ...(first.username === '' ? {} : { username: decodeURIComponent(first.username) }),
      ...(first.password === '' ? {} : { password: decodeURIComponent(first.password) }),
      socket: {
        connectTimeout,
        ...(tls ? { tls: true as const } : {}),
        // As on a single server: the gateway owns the retry loop at start, the driver reconnects forever afterwards.
        reconnectStrategy: reconnectStrategy(phase),
      },
    },
  } as RedisClusterOptions;
}

class ClusterNotReady extends Error {
  override readonly name = 'ClusterNotReady';
}

/** One attempt: discover the cluster, check it is healthy, connect to every primary. */
async function attempt(urls: readonly string[], phase: Phase, connectTimeout: number): Promise<Cluster> {
  const cluster = createCluster(clusterOptions(urls, phase, connectTimeout));
  // The driver reports why each seed failed only as an 'error' event (and would
  // crash the process without a listener); connect() itself just says none worked.
  const seen: unknown[] = [];
  const collect = (error: unknown) => seen.push(error);
  cluster.on('error', collect);
  try {
    await cluster.connect();
    if (cluster.masters.length === 0) throw new ClusterNotReady('no primary serves any hash slot yet (are the 16384 slots assigned?)');
    const info = String(await cluster.sendCommand(undefined, true, ['CLUSTER', 'INFO']));
    const state = /cluster_state:(\w+)/.exec(info)?.[1];
    if (state !== 'ok') throw new ClusterNotReady(`cluster_state is ${state ?? 'unknown'}, not ok (are all 16384 slots assigned and every primary up?)`);
    cluster.off('error', collect).on('error', () => {});
    return cluster;
  } catch (error) {
    cluster.destroy();
    throw mostTelling([...seen, error]);
  }
}

/** The failure that says most: a refusal retrying cannot fix, else the last one. */
function mostTelling(errors: readonly unknown[]): unknown {
  const final = errors.find((e) => isErrorReply(e) && /cluster support disabled/i.test(e.message)) ?? errors.find((e) => describeConnectFailure(e).kind !== 'transient');
  return final ?? errors.findLast((e) => !(e instanceof Error && /root nodes are unavailable/i.test(e.message))) ?? errors.at(-1);
}

async function connectWithRetry(options: ClusterConnectOptions, address: string, phase: Phase): Promise<Cluster> {
  const started = Date.now();
  const deadline = started + options.connectTimeoutMs;
  let delay = 100;
  for (let tries = 1; ; tries++) {
    const remaining = deadline - Date.now();
    try {
      return await attempt(options.urls, phase, Math.min(SOCKET_CONNECT_TIMEOUT_MS, Math.max(remaining, 200)));
    } catch (error) {
      if (isErrorReply(error) && /cluster support disabled/i.test(error.message)) {
        throw new GatewayError(
          'DATABASE_CLUSTER_INVALID',
          `The server at ${address} is not in cluster mode (cluster-enabled no). Use FALKORDB_URL for a single server, or name the seeds of a Redis/Valkey Cluster in FALKORDB_CLUSTER_URLS.`,
          { address },
        );
      }
      const failure = error instanceof ClusterNotReady ? { kind: 'transient', reason: error.message } : describeConnectFailure(error);
      if (failure.kind === 'auth') {
        throw new GatewayError('DATABASE_UNREACHABLE', `Cannot use the FalkorDB ${address}: ${failure.reason}. Check the password in FALKORDB_CLUSTER_URLS (redis://:PASSWORD@host:port).`, { address });
      }
      if (failure.kind === 'protocol') {
        throw new GatewayError('DATABASE_NOT_FALKORDB', `Cannot use the FalkorDB ${address}: ${failure.reason}. Check the hosts and ports in FALKORDB_CLUSTER_URLS.`, { address });
      }
      if (Date.now() >= deadline) {
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        const code = error instanceof ClusterNotReady ? 'DATABASE_CLUSTER_INVALID' : 'DATABASE_UNREACHABLE';
        throw new GatewayError(
          code,
          `Cannot use the FalkorDB ${address} after ${seconds} s and ${tries} ${tries === 1 ? 'try' : 'tries'} (${failure.reason}). Check FALKORDB_CLUSTER_URLS and that the cluster is up (valkey-cli --cluster check HOST:PORT).`,
          { address },
        );
      }
      options.logger.debug({ address, reason: failure.reason, retryInMs: delay }, 'FalkorDB cluster not usable yet; retrying');
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}

/** Every primary must have the graph module: a graph can land on any shard. Returns the version. */
async function checkGraphModule(cluster: Cluster, address: string): Promise<string> {
  const versions = await Promise.all(
    cluster.masters.map(async (primary) => ({ node: primary.address, version: await readGraphModuleVersion(await cluster.nodeClient(primary)) })),
  );
  const missing = versions.filter((v) => v.version === undefined).map((v) => v.node);
  if (missing.length > 0) {
    throw new GatewayError(
      'DATABASE_NOT_FALKORDB',
      `The FalkorDB ${address} has primaries without the FalkorDB module (GRAPH.* commands are unknown on ${missing.join(', ')}). Load falkordb.so on every node (--loadmodule /path/to/falkordb.so), since any shard can hold a graph.`,
      { address },
    );
  }
  const distinct = [...new Set(versions.map((v) => v.version!))];
  return distinct.length === 1 ? distinct[0]! : distinct.join(' / ');
}

/** Connects to the cluster the seeds belong to; throws DATABASE_UNREACHABLE, DATABASE_NOT_FALKORDB or DATABASE_CLUSTER_INVALID. */
export async function connectCluster(options: ClusterConnectOptions): Promise<Database> {
  const address = clusterAddress(options.urls);
  const phase: Phase = { name: 'starting' };
  const cluster = await connectWithRetry(options, address, phase);
  phase.name = 'running';
  let moduleVersion: string;
  try {
    moduleVersion = await checkGraphModule(cluster, address);
  } catch (error) {
    phase.name = 'closed';
    cluster.destroy();
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('DATABASE_UNREACHABLE', `The FalkorDB ${address} connected but failed the module check (${describeConnectFailure(error).reason}).`, { address });
  }
  const logger = options.logger;
  let lost = false;
  cluster.on('node-error', (error: unknown, node: { host: string; port: number }) => {
    if (phase.name === 'closed') return;
    const reason = describeConnectFailure(error).reason;
    if (!lost) logger.warn({ address, node: `${node.host}:${node.port}`, reason }, 'FalkorDB cluster node lost; reconnecting');
    lost = true;
  });
  // Failed re-discoveries after a topology change; the node events above already tell the story.
  cluster.on('error', (error: unknown) => {
    if (phase.name !== 'closed') logger.debug({ address, reason: describeConnectFailure(error).reason }, 'FalkorDB cluster layout refresh failed');
  });
  // 'node-ready' comes once per node connection; a connection that reconnects says 'node-reconnecting'.
  cluster.on('node-reconnecting', () => {
    if (phase.name !== 'closed') options.onNodeChange?.();
  });
  cluster.on('node-ready', () => {
    if (phase.name !== 'closed') options.onNodeChange?.();
    if (!lost) return;
    lost = false;
    logger.info({ address }, 'FalkorDB cluster node connection restored');
  });
  logger.debug({ address, primaries: cluster.masters.length, moduleVersion }, 'connected to the FalkorDB cluster');
  return new ClusterDatabase(cluster, `${address}, ${cluster.masters.length} primaries`, moduleVersion, phase, logger);
}

