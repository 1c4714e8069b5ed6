// Starts the official FalkorDB MCP server (@falkordb/mcpserver, a devDependency)
// on its HTTP transport, in its own process, against the benchmark's FalkorDB.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from '../../test/support/ports.js';
import { endChild, stderrTail } from './child.js';
import { keepAliveAgent } from './http-post.js';
import { openOfficialSession } from './official-client.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const OFFICIAL_ENTRY = path.join(REPO_ROOT, 'node_modules', '@falkordb', 'mcpserver', 'dist', 'index.js');
const START_TIMEOUT_MS = 30_000;

export interface OfficialServer {
  /** Its MCP endpoint (it serves every path; /mcp for clarity). */
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

export async function startOfficialServer(falkordbUrl: string): Promise<OfficialServer> {
  const db = new URL(falkordbUrl);
  const port = await freeLoopbackPort();
  // It reads a .env from its working directory: give it an empty one.
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'official-mcp-'));
  const child: ChildProcess = spawn(process.execPath, [OFFICIAL_ENTRY], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      // 'development' (its default) appends every log line to a file and sends debug logs to clients.
      NODE_ENV: 'production',
      MCP_TRANSPORT: 'http',
      MCP_PORT: String(port),
      FALKORDB_HOST: db.hostname,
      FALKORDB_PORT: db.port,
      FALKORDB_PASSWORD: decodeURIComponent(db.password),
    },
  });
  const stderr = stderrTail(child);
  const url = `http://127.0.0.1:${port}/mcp`;
  const stop = async () => {
    await endChild(child, 5_000);
    await rm(cwd, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  const agent = keepAliveAgent(1);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the official server exited with code ${child.exitCode}: ${stderr() || '(no output)'}`);
      try {
        await openOfficialSession(new URL(url), agent);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the official server did not answer within ${START_TIMEOUT_MS / 1000} s (${(error as Error).message}); stderr: ${stderr()}`);
        await sleep(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    agent.destroy();
  }
  const { version } = JSON.parse(await readFile(path.join(path.dirname(OFFICIAL_ENTRY), '..', 'package.json'), 'utf8')) as { version?: string };
  return { url, pid: child.pid!, version: version ?? 'unknown', stop };
}
