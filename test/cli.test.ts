// The command as an operator runs it: exit codes, one-line errors, and
// `serve` in dev mode on an embedded FalkorDB, restarted on the same data.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readEmbeddedState } from '../src/falkordb/launcher.js';
import { freeLoopbackPort } from './support/ports.js';
import { runCli } from './support/cli.js';
import { CLI_ENTRY, REPO_ROOT, connectClient, mustCall } from './support/mcp.js';

/** Starts `serve` and resolves once the dev banner with its token is printed. */
function startServe(env: Record<string, string>): Promise<{ child: ChildProcessWithoutNullStreams; token: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'serve'], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', METRICS_PORT: 'off', ...env } });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = /Demo token[^\n]*\n(\S+)\n/.exec(out);
      if (match?.[1] && out.includes('VS Code')) resolve({ child, token: match[1], output: () => out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}

function stopServe(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('close');
    child.on('close', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

let dataDir: string;
before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-cli-'));
});
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('falkordb-mcp-gateway', () => {
  it('names PORT and exits 2 when PORT is not a number', async () => {
    const result = await runCli(['serve'], { PORT: 'abc' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^falkordb-mcp-gateway: PORT \(got "abc"\) must be a whole number; for example PORT=\d+\n$/);
  });

  it('names the address and exits non-zero when FALKORDB_URL does not answer', async () => {
    const result = await runCli(['serve'], { FALKORDB_URL: 'redis://127.0.0.1:1', FALKORDB_CONNECT_TIMEOUT_MS: '1500', LOG_LEVEL: 'silent', PORT: '0', METRICS_PORT: 'off' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /redis:\/\/127\.0\.0\.1:1/);
    assert.ok(!result.stderr.includes('    at '), 'no stack trace');
  });

  it('tells the truth in --help', async () => {
    const result = await runCli(['--help'], {});
    assert.equal(result.code, 0);
    assert.match(result.stdout, /serve/);
    assert.match(result.stdout, /stdio/);
  });

  it('serves in dev mode on an embedded FalkorDB, and keeps the data across a restart', async () => {
    const port = String(await freeLoopbackPort());
    const env = { FALKORDB_DATA_DIR: dataDir, PORT: port };
    const first = await startServe(env);
    try {
      assert.match(first.output(), /claude mcp add --transport http/);
      assert.match(first.output(), /mcp-remote/);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200);
      const client = await connectClient('http', `http://127.0.0.1:${port}`, first.token);
      assert.equal((await client.listTools()).tools.length, 10);
      await mustCall(client, 'falkordb_query', { graphName: 'kept', query: "CREATE (:Memo {text: 'still here'})" });
      await client.close();
    } finally {
      assert.equal(await stopServe(first.child), 0);
    }
    const second = await startServe(env);
    try {
      const client = await connectClient('http', `http://127.0.0.1:${port}`, second.token);
      const out = await mustCall(client, 'falkordb_query', { graphName: 'kept', query: 'MATCH (m:Memo) RETURN m.text AS text' });
      assert.deepEqual(out.rows, [{ text: 'still here' }]);
      assert.equal((await mustCall(client, 'falkordb_server_info')).tenant, 'demo');
      await client.close();
      // The CLI borrows the running gateway's embedded database and dev key.
      const issued = await runCli(['token', 'issue', '--tenant', 'demo', '--device', 'second-laptop'], { FALKORDB_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
      assert.equal(issued.code, 0, issued.stderr);
      const other = await connectClient('http', `http://127.0.0.1:${port}`, issued.stdout.trim());
      assert.deepEqual((await mustCall(other, 'falkordb_list_graphs')).graphs, ['kept']);
      await other.close();
    } finally {
      assert.equal(await stopServe(second.child), 0);
    }
    // With no gateway running, the CLI starts the embedded database briefly and stops it again.
    const listed = await runCli(['token', 'list', '--tenant', 'demo', '--json'], { FALKORDB_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    assert.equal(listed.code, 0, listed.stderr);
    const devices = (JSON.parse(listed.stdout) as { tokens: Array<{ device: string }> }).tokens.map((t) => t.device);
    assert.ok(devices.includes('second-laptop') && devices.includes('dev'), devices.join(','));
    assert.equal(readEmbeddedState(dataDir), undefined, 'the briefly started server is gone');
  });
});
