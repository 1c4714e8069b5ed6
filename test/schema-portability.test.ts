// The tools' JSON Schemas as every MCP host can read them, checked by the MCP
// Inspector's own linter (`--strict`, under Node.js 22): no type arrays, no
// empty schemas, nothing a host that maps tool schemas onto a single-type
// dialect (Gemini's function declarations, for one) would refuse. The Inspector
// also connects in each protocol era, so this is one more real client of both.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { node22Tools, type Node22Tools } from './support/node22.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let tools: Node22Tools;
let home: string;

before(async () => {
  tools = await node22Tools();
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  home = await mkdtemp(path.join(tmpdir(), 'inspector-home-'));
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
  if (home !== undefined) await rm(home, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function inspector(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(tools.node, [tools.inspectorCli, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home }, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('tool schemas, as the MCP Inspector checks them', () => {
  for (const era of ['modern', 'legacy'] as const) {
    it(`reports no portability problem in any tool schema (--strict, protocol era ${era})`, async () => {
      // A token that sees every tool: read-only tokens are shown fewer.
      const token = await signTestToken('portable', { scope: 'read write admin' });
      const run = await inspector([`${gateway.url}/mcp`, '--transport', 'http', '--protocol-era', era, '--header', `Authorization: Bearer ${token}`, '--method', 'tools/list', '--strict']);
      assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
      assert.doesNotMatch(run.stderr, /Warning: tool|Error: tool|portability/, run.stderr);
      const listed = JSON.parse(run.stdout) as { tools: Array<{ name: string }> };
      assert.equal(listed.tools.length, 10, run.stdout);
    });
  }
});
