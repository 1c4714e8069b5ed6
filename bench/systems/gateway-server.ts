// The gateway as it is deployed: src/ compiled by `npm run build` and run with
// `node dist/cli/index.js serve` in its own process (the Dockerfile and the
// systemd unit do the same), against the benchmark's FalkorDB.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from '../../test/support/ports.js';
import { TEST_SECRET } from '../../test/support/tokens.js';
import { endChild, stderrTail } from './child.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const ENTRY = path.join(REPO_ROOT, 'dist', 'cli', 'index.js');
const START_TIMEOUT_MS = 30_000;

export interface GatewayServer {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  pid: number;
  /** Runs a full GC in the gateway's process; resolves with the JS heap in use after it, in bytes. */
  collect(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * `npm run build` (incremental: quick when dist/ is current): the compiled gateway
 * the benchmark runs. Throws with the compiler's output when it fails.
 */
export function buildGateway(): void {
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', path.join(REPO_ROOT, 'dist', '.tsbuildinfo')], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed, so there is no compiled gateway to measure:\n${(built.stdout + built.stderr).trim()}`);
}

export async function startGatewayServer(falkordbUrl: string, env: Record<string, string>): Promise<GatewayServer> {
  const port = await freeLoopbackPort();
  // Its own data folder: nothing of the benchmark's lands in the working tree.
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-gateway-'));
  const child = spawn(process.execPath, ['--expose-gc', '--import', path.join(import.meta.dirname, 'gateway-gc.mjs'), ENTRY, 'serve'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      FALKORDB_URL: falkordbUrl,
      FALKORDB_DATA_DIR: dataDir,
      AUTH_JWT_SECRET: TEST_SECRET,
      HOST: '127.0.0.1',
      PORT: String(port),
      // Warnings and errors only: at info, every request writes an access-log line.
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const stderr = stderrTail(child);
  const stop = async () => {
    await endChild(child, 10_000);
    await rm(dataDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the gateway exited with code ${child.exitCode}: ${stderr() || '(no output)'}`);
    }
    const ready = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the gateway did not answer /healthz within ${START_TIMEOUT_MS / 1000} s: ${stderr()}`);
    }
    await sleep(100);
  }
  const collect = async () => {
    const reply = once(child, 'message') as Promise<[{ heapUsed: number }]>;
    child.send('collect');
    return (await reply)[0].heapUsed;
  };
  return { url, pid: child.pid!, collect, stop };
}
