// Starts a real Redis/Valkey Cluster for a test: N primaries with falkordb.so
// loaded (or, on request, some without it), slots split evenly, on free ports.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { freeLoopbackPort } from './ports.js';
import { findServerBinary, locateFalkorDBModule } from '../../src/falkordb/server-binary.js';
import { TEST_THREAD_COUNT, testLogger } from './falkordb.js';
import { waitFor } from './topology.js';

const SLOTS = 16384;

export interface TestClusterNode {
  port: number;
  /** `redis://:PASSWORD@127.0.0.1:PORT`. */
  url: string;
  /** Sends one command to this node only (no redirection). */
  command(args: readonly string[]): Promise<unknown>;
  /** Stops the node's server (SIGTERM). */
  stop(): Promise<void>;
  /** Starts it again on the same port and cluster configuration; it rejoins with its slots (its data is gone). */
  start(): Promise<void>;
}

export interface TestCluster {
  /** The primaries. */
  nodes: TestClusterNode[];
  /** Replicas (see TestClusterOptions.replicas), the i-th of primary i modulo their count. */
  replicas: TestClusterNode[];
  /** Every node's URL, as FALKORDB_CLUSTER_URLS takes them. */
  urls: string[];
  password: string;
  /** The node that owns the hash slot of `key`. */
  nodeOfKey(key: string): Promise<TestClusterNode>;
  /** Stops every node and removes their folders. */
  cleanup(): Promise<void>;
}

export interface TestClusterOptions {
  primaries?: number;
  /** Indexes of nodes started without falkordb.so. */
  withoutModule?: number[];
  /** false: leave the slots unassigned, so the cluster never reaches cluster_state:ok. */
  assignSlots?: boolean;
  /** How many replicas to add (none by default). */
  replicas?: number;
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const primaries = options.primaries ?? 3;
  const count = primaries + (options.replicas ?? 0);
  const withoutModule = new Set(options.withoutModule ?? []);
  const binary = await findServerBinary({ logger: testLogger(), allowInstall: false, configuredBin: process.env['FALKORDB_SERVER_BIN'] });
  const module = locateFalkorDBModule();
  const root = await mkdtemp(path.join(os.tmpdir(), 'falkordb-cluster-test-'));
  const password = randomBytes(16).toString('hex');
  const stops: Array<() => Promise<void>> = [];

  const cleanup = async (): Promise<void> => {
    await Promise.all(stops.map((stop) => stop()));
    await rm(root, { recursive: true, force: true });
  };

  try {
    const nodes: TestClusterNode[] = [];
    const busPorts: number[] = [];
    const firstStarts: Array<() => Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      const dir = path.join(root, `node-${i}`);
      await mkdir(dir);
      const configPath = path.join(dir, 'node.conf');
      const writeConfig = (port: number, busPort: number) => {
        const lines = [
          `port ${port}`,
          'bind 127.0.0.1',
          `cluster-port ${busPort}`,
          'cluster-enabled yes',
          `cluster-config-file ${path.join(dir, 'nodes.conf')}`,
          'cluster-node-timeout 5000',
          `dir ${dir}`,
          'save ""',
          'appendonly no',
          `requirepass ${password}`,
          `masterauth ${password}`,
          ...(withoutModule.has(i) ? [] : [`loadmodule ${module} THREAD_COUNT ${TEST_THREAD_COUNT}`]),
        ];
        return writeFile(configPath, `${lines.join('\n')}\n`, { mode: 0o600 });
      };
      busPorts.push(await freeLoopbackPort());
      const initialPort = await freeLoopbackPort();
      await writeConfig(initialPort, busPorts[i]!);
      let child: ChildProcess | undefined;
      let client: { isOpen: boolean; destroy(): void; sendCommand(args: string[]): Promise<unknown> } | undefined;
      const stop = async (): Promise<void> => {
        const [c, running] = [client, child];
        client = undefined;
        child = undefined;
        if (c?.isOpen) c.destroy();
        if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGTERM');
        await Promise.race([exited, sleep(5_000).then(() => running.kill('SIGKILL'))]);
      };
      /** Runs the server as configured until it answers; `exited` (with its last output) when it ended first, e.g. its port was taken meanwhile. */
      const run = async (port: number): Promise<{ exited: false } | { exited: true; output: string }> => {
        const started = spawn(binary.path, [configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
        child = started;
        let output = '';
        const keep = (data: Buffer) => (output = (output + data.toString()).slice(-2000));
        started.stdout?.on('data', keep);
        started.stderr?.on('data', keep);
        const gone = () => started.exitCode !== null || started.signalCode !== null;
        const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, password });
        c.on('error', () => {});
        const up = await waitFor('test cluster: a node accepting connections', async () => (gone() ? false : (await c.connect(), true)));
        if (!up) return { exited: true, output };
        client = c;
        return { exited: false };
      };
      const node: TestClusterNode = {
        port: initialPort,
        url: `redis://:${password}@127.0.0.1:${initialPort}`,
        command: (args) => (client === undefined ? Promise.reject(new Error(`test cluster node ${node.port} is stopped`)) : client.sendCommand([...args])),
        stop,
        start: async () => {
          const ran = await run(node.port);
          if (ran.exited) throw new Error(`test cluster: the node on port ${node.port} exited before it answered: ${ran.output}`);
        },
      };
      stops.push(stop);
      nodes.push(node);
      // The first start only: a port another process took between its choice and the server's bind gets new ones.
      firstStarts.push(async () => {
        for (let attempt = 1; ; attempt++) {
          const ran = await run(node.port);
          if (!ran.exited) return;
          if (attempt >= 5 || !/address already in use/i.test(ran.output)) throw new Error(`test cluster: the node on port ${node.port} exited before it answered: ${ran.output}`);
          node.port = await freeLoopbackPort();
          node.url = `redis://:${password}@127.0.0.1:${node.port}`;
          busPorts[i] = await freeLoopbackPort();
          await writeConfig(node.port, busPorts[i]!);
        }
      });
    }
    await Promise.all(firstStarts.map((first) => first()));

    // Each node takes an even share of the slots, then they meet.
    const share = Math.ceil(SLOTS / primaries);
    const assign = options.assignSlots ?? true;
    if (assign) {
      await Promise.all(
        nodes.slice(0, primaries).map((node, i) => node.command(['CLUSTER', 'ADDSLOTSRANGE', String(i * share), String(Math.min(SLOTS, (i + 1) * share) - 1)])),
      );
    }
    for (const [i, node] of nodes.entries()) {
      if (i > 0) await nodes[0]!.command(['CLUSTER', 'MEET', '127.0.0.1', String(node.port), String(busPorts[i])]);
    }
    await Promise.all(
      nodes.map((node) =>
        waitFor('test cluster: cluster_state:ok on every node', async () => {
          const info = String(await node.command(['CLUSTER', 'INFO']));
          return (!assign || /cluster_state:ok/.test(info)) && new RegExp(`cluster_known_nodes:${count}\\b`).test(info) ? true : undefined;
        }),
      ),
    );
    const replicas = nodes.splice(primaries);
    for (const [i, replica] of replicas.entries()) {
      const primaryId = String(await nodes[i % primaries]!.command(['CLUSTER', 'MYID']));
      await replica.command(['CLUSTER', 'REPLICATE', primaryId]);
      await waitFor('test cluster: a replica in sync', async () => (/master_link_status:up/.test(String(await replica.command(['INFO', 'replication']))) ? true : undefined));
    }
    // Every primary lists the replicas in its slot map (CLUSTER SLOTS), as clients discover them.
    for (const node of replicas.length === 0 ? [] : nodes) {
      await waitFor('test cluster: the replicas in every slot map', async () => {
        const map = JSON.stringify(await node.command(['CLUSTER', 'SLOTS']));
        return replicas.every((r) => map.includes(`,${r.port},`)) ? true : undefined;
      });
    }

    return {
      nodes,
      replicas,
      urls: nodes.map((n) => n.url),
      password,
      nodeOfKey: async (key) => {
        const slot = Number(await nodes[0]!.command(['CLUSTER', 'KEYSLOT', key]));
        return nodes[Math.floor(slot / share)]!;
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
