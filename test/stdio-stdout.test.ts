// `stdio --tenant`: stdout carries the MCP stream and nothing else, even when a
// library prints with console.log (node-redis's Sentinel client does on errors).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { CLI_ENTRY, REPO_ROOT } from './support/mcp.js';

let falkordb: TestFalkorDB;
let dir: string;

before(async () => {
  falkordb = await startTestFalkorDB();
  dir = await mkdtemp(path.join(os.tmpdir(), 'stdio-stdout-'));
});

after(async () => {
  await falkordb.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** Waits until `read()` matches, or fails with what was read. */
async function waitFor(read: () => string, pattern: RegExp, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got: ${read().slice(-500)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('stdio: stdout holds MCP messages only', () => {
  it('sends what libraries print with console.log/info/debug to stderr', async () => {
    // Stands in for a library that prints: once the server is up, SIGUSR2 makes it print.
    const noisy = path.join(dir, 'noisy-library.mjs');
    await writeFile(noisy, "process.on('SIGUSR2', () => { console.log('library noise: log'); console.info('library noise: info'); console.debug('library noise: debug'); });\n");
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', noisy, CLI_ENTRY, 'stdio', '--tenant', 'quiet', '--scope', 'read'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', FALKORDB_URL: falkordb.url, LOG_LEVEL: 'info' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitFor(() => stderr, /stdio server ready/, 'the server to start');
      child.kill('SIGUSR2');
      await waitFor(() => stderr, /library noise: debug/, 'the library noise on stderr');
      const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
      send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      await waitFor(() => stdout, /"id":2/, 'the tools/list reply');
      const lines = stdout.split('\n').filter((line) => line !== '');
      assert.equal(lines.length, 2, `stdout: ${stdout.slice(0, 500)}`);
      for (const line of lines) assert.equal((JSON.parse(line) as { jsonrpc?: string }).jsonrpc, '2.0');
      assert.doesNotMatch(stdout, /library noise/);
      assert.match(stderr, /library noise: log[\s\S]*library noise: info[\s\S]*library noise: debug/);
    } finally {
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    }
  });
});
