// Replication topologies for tests: Valkey nodes with falkordb.so on free loopback
// ports, replicas of one another, and sentinels watching them; each can be killed
// and started again on the same port.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { freeLoopbackPort } from './ports.js';
import { findServerBinary, locateFalkorDBModule } from '../../src/falkordb/server-binary.js';
import { TEST_THREAD_COUNT, testLogger } from './falkordb.js';

const START_TIMEOUT_MS = 30_000;

export interface TopologyNode {
  port: number;
  /** `redis://:PASSWORD@127.0.0.1:PORT` (a sentinel's has no password). */
  url: string;
  /** Sends one command to this node on a fresh connection. */
  command(args: readonly string[]): Promise<unknown>;
  /** SIGKILL: no goodbye to clients or replicas. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port and config file (a sentinel keeps what it learnt); `extraConfig`
   * lines are added to that file first, e.g. to bring a node back as a replica.
   */
  restart(extraConfig?: readonly string[]): Promise<void>;
  readonly running: boolean;
  /** The server's process id while it runs, e.g. to freeze it with SIGSTOP. */
  readonly pid: number | undefined;
}

export interface Topology {
  password: string;
  /** A FalkorDB node; with `replicaOf`, a replica of that node (in sync when this resolves); `port` to choose it. */
  startNode(options?: { replicaOf?: TopologyNode; port?: number }): Promise<TopologyNode>;
  /** A sentinel watching `primary` as `name`. */
  startSentinel(primary: TopologyNode, options: { name: string; quorum: number; downAfterMs: number; failoverTimeoutMs: number }): Promise<TopologyNode>;
  /** Kills every process and removes the folder. */
  cleanup(): Promise<void>;
}

/** Waits until `probe` returns something other than undefined (errors count as "not yet"). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = START_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await sleep(100);
  }
}

/** Reads one `field:value` line of an INFO reply. */
export function infoField(info: unknown, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(String(info))?.[1]?.trim();
}

/** How many times the node ran `command` (INFO commandstats), 0 when never. */
export async function commandCalls(node: TopologyNode, command: string): Promise<number> {
  const info = String(await node.command(['INFO', 'commandstats']));
  const match = new RegExp(`^cmdstat_${command.replace(/\./g, '\\.')}:calls=(\\d+)`, 'mi').exec(info);
  return match === null ? 0 : Number(match[1]);
}

/** SIGKILL, resolved once the process is gone; nothing to do when it already exited. */
async function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function sendOnce(port: number, password: string | undefined, args: readonly string[]): Promise<unknown> {
  const client = createClient({ socket: { host: '127.0.0.1', port, connectTimeout: 2_000, reconnectStrategy: false }, ...(password === undefined ? {} : { password }) });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.sendCommand([...args]);
  } finally {
    client.destroy();
  }
}

export async function startTopology(): Promise<Topology> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'falkordb-topology-'));
  const password = randomBytes(16).toString('hex');
  const bin = (await findServerBinary({ logger: testLogger(), allowInstall: false })).path;
  const modulePath = locateFalkorDBModule();
  const children = new Set<ChildProcess>();
  // A test that dies half-way must not leave servers behind.
  const killAll = (): void => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  let count = 0;

  async function launch(configPath: string, port: number, auth: string | undefined, sentinel: boolean): Promise<TopologyNode> {
    let child: ChildProcess | undefined;
    const spawnIt = async (): Promise<void> => {
      const started = spawn(bin, sentinel ? [configPath, '--sentinel'] : [configPath], { cwd: dir, stdio: 'ignore', env: { ...process.env } });
      children.add(started);
      started.once('exit', () => children.delete(started));
      child = started;
      await waitFor(`node on port ${port} answering PING`, async () => ((await sendOnce(port, auth, ['PING'])) === 'PONG' ? true : undefined));
    };
    await spawnIt();
    return {
      port,
      url: auth === undefined ? `redis://127.0.0.1:${port}` : `redis://:${auth}@127.0.0.1:${port}`,
      command: (args) => sendOnce(port, auth, args),
      get running() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      get pid() {
        return child?.pid;
      },
      kill: async () => {
        if (child !== undefined) await killNow(child);
      },
      restart: async (extraConfig = []) => {
        if (extraConfig.length > 0) await appendFile(configPath, `${extraConfig.join('\n')}\n`);
        await spawnIt();
      },
    };
  }

  return {
    password,
    async startNode(options = {}) {
      const port = options.port ?? (await freeLoopbackPort());
      const configPath = path.join(dir, `node-${++count}-${port}.conf`);
      const lines = [
        'bind 127.0.0.1',
        `port ${port}`,
        `requirepass ${password}`,
        `masterauth ${password}`,
        `dir ${dir}`,
        `dbfilename node-${port}.rdb`,
        `logfile ${path.join(dir, `node-${port}.log`)}`,
        'save ""',
        'appendonly no',
        // Replicas sync at once instead of waiting for more replicas to join the transfer.
        'repl-diskless-sync-delay 0',
        `loadmodule ${modulePath} THREAD_COUNT ${TEST_THREAD_COUNT}`,
      ];
      if (options.replicaOf !== undefined) lines.push(`replicaof 127.0.0.1 ${options.replicaOf.port}`);
      await writeFile(configPath, `${lines.join('\n')}\n`);
      const node = await launch(configPath, port, password, false);
      if (options.replicaOf !== undefined) {
        await waitFor(`replica ${port} in sync`, async () => (infoField(await node.command(['INFO', 'replication']), 'master_link_status') === 'up' ? true : undefined));
      }
      return node;
    },
    async startSentinel(primary, options) {
      const port = await freeLoopbackPort();
      const configPath = path.join(dir, `sentinel-${++count}-${port}.conf`);
      const lines = [
        'bind 127.0.0.1',
        `port ${port}`,
        `dir ${dir}`,
        `logfile ${path.join(dir, `sentinel-${port}.log`)}`,
        `sentinel monitor ${options.name} 127.0.0.1 ${primary.port} ${options.quorum}`,
        `sentinel auth-pass ${options.name} ${password}`,
        `sentinel down-after-milliseconds ${options.name} ${options.downAfterMs}`,
        `sentinel failover-timeout ${options.name} ${options.failoverTimeoutMs}`,
        `sentinel parallel-syncs ${options.name} 1`,
      ];
      // The sentinel rewrites its own config file as it learns the topology.
      await writeFile(configPath, `${lines.join('\n')}\n`);
      return launch(configPath, port, undefined, true);
    },
    async cleanup() {
      await Promise.all([...children].map(killNow));
      process.off('exit', killAll);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
