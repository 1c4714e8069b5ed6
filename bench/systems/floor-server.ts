// Starts a floor server (floor-entry.ts, plain or behind the MCP SDK's server) in its own process against the benchmark's FalkorDB.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { endChild, stderrTail } from './child.js';

const START_TIMEOUT_MS = 30_000;

export interface FloorServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startFloorServer(falkordbUrl: string, mode: 'plain' | 'sdk'): Promise<FloorServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'floor-entry.ts')], {
    cwd: path.resolve(import.meta.dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', FALKORDB_URL: falkordbUrl, FLOOR_MODE: mode },
  });
  const stderr = stderrTail(child);
  const stop = () => endChild(child, 5_000);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the floor server did not start within ${START_TIMEOUT_MS / 1000} s: ${stderr()}`)), START_TIMEOUT_MS);
    child.stdout.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(Number(chunk.toString().trim()));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the floor server exited with code ${code}: ${stderr() || '(no output)'}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid!, stop };
}
