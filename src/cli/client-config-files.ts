// Where desktop MCP clients keep their config file, and merging one server
// entry into it without losing anything: backup first, other servers and keys
// kept, atomic replace, mode 0600 because the file then holds a token.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type FileClient = 'claude-desktop' | 'cursor' | 'vscode';

export interface Whereabouts {
  platform: NodeJS.Platform;
  home: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The file each client reads at start, where its own documentation puts it. */
export function defaultConfigFile(client: FileClient, at: Whereabouts): string {
  // Windows paths stay Windows paths even when computed elsewhere (tests, --help on another machine).
  const p = at.platform === 'win32' ? path.win32 : path.posix;
  if (client === 'cursor') return p.join(at.home, '.cursor', 'mcp.json');
  if (client === 'vscode') return p.join(at.cwd, '.vscode', 'mcp.json');
  const file = 'claude_desktop_config.json';
  if (at.platform === 'darwin') return p.join(at.home, 'Library', 'Application Support', 'Claude', file);
  if (at.platform === 'win32') return p.join(at.env.APPDATA || p.join(at.home, 'AppData', 'Roaming'), 'Claude', file);
  // Electron's appData on Linux, which Claude Desktop builds use: $XDG_CONFIG_HOME, else ~/.config.
  return p.join(at.env.XDG_CONFIG_HOME || p.join(at.home, '.config'), 'Claude', file);
}

/** The file exists but cannot be merged into safely; it was left as it was. */
export class ConfigFileRefused extends Error {
  override readonly name = 'ConfigFileRefused';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a symlink, so the link stays and the file it points at is updated. */
async function resolveTarget(file: string): Promise<string> {
  // Missing or unreachable: reading it next says which, in the same words as for any other file.
  return realpath(file).catch(() => path.resolve(file));
}

export interface ConfigFileState {
  file: string;
  exists: boolean;
  root: Record<string, unknown>;
}

/** Reads the file (absent or blank counts as `{}`) and checks it can take an entry under `section`. */
export async function readConfigFile(file: string, section: string): Promise<ConfigFileState> {
  const target = await resolveTarget(file);
  let text: string;
  try {
    text = await readFile(target, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { file: target, exists: false, root: {} };
    throw new ConfigFileRefused(`Cannot read ${target} (${code ?? String(error)}); fix the path or its permissions, or give another file with --config-file.`);
  }
  if (text.trim() === '') return { file: target, exists: true, root: {} };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ConfigFileRefused(`${target} is not valid JSON (${why}), so it was left untouched; fix it (comments are not allowed either), or run without --write and add the printed entry by hand.`);
  }
  if (!isObject(root)) throw new ConfigFileRefused(`${target} does not hold a JSON object, so it was left untouched; fix it, or run without --write and add the printed entry by hand.`);
  if (root[section] !== undefined && !isObject(root[section])) {
    throw new ConfigFileRefused(`In ${target}, "${section}" is not an object, so the file was left untouched; fix it, or run without --write and add the printed entry by hand.`);
  }
  return { file: target, exists: true, root };
}

/** `20250102T030405Z`: sortable, and valid in file names on every platform. */
function stamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/** Copies the old file next to itself; never overwrites an earlier backup. */
async function backUp(file: string, now: Date): Promise<string> {
  for (let n = 1; ; n++) {
    const backup = `${file}.${stamp(now)}${n === 1 ? '' : `-${n}`}.bak`;
    try {
      await copyFile(file, backup, constants.COPYFILE_EXCL);
      await chmod(backup, 0o600);
      return backup;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Writes next to the target, then renames over it: a reader sees the old file or the new one, never half of one. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

export interface MergeResult {
  file: string;
  created: boolean;
  replaced: boolean;
  backup: string | undefined;
}

/** Sets `root[section][name] = entry` in the file, keeping everything else in it. */
export async function mergeServerEntry(file: string, section: string, name: string, entry: unknown, now = new Date()): Promise<MergeResult> {
  const state = await readConfigFile(file, section);
  const servers = isObject(state.root[section]) ? state.root[section] : {};
  const replaced = Object.hasOwn(servers, name);
  const merged = { ...state.root, [section]: { ...servers, [name]: entry } };
  try {
    await mkdir(path.dirname(state.file), { recursive: true });
    const backup = state.exists ? await backUp(state.file, now) : undefined;
    await writeAtomically(state.file, `${JSON.stringify(merged, null, 2)}\n`);
    return { file: state.file, created: !state.exists, replaced, backup };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigFileRefused(`Could not write ${state.file} (${code}); it is as it was. Fix the folder's permissions, or give another file with --config-file.`);
  }
}
