// Runs the `falkordb-mcp-gateway` command as an operator would, in a child process.

import { spawn } from 'node:child_process';
import { CLI_ENTRY, REPO_ROOT } from './mcp.js';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the command with only PATH and `env` set; `input` is written to its stdin. Runs in the checkout unless `cwd` says otherwise. */
export function runCli(args: string[], env: Record<string, string>, input?: string, cwd = REPO_ROOT): Promise<Finished> {
  return new Promise((resolve) => {
    // tsx by its absolute location, so the command also runs from a folder outside the checkout.
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI_ENTRY, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Runs the command and parses its stdout as JSON; fails with its stderr when it did not exit 0. */
export async function runCliJson<T = Record<string, unknown>>(args: string[], env: Record<string, string>, input?: string): Promise<T> {
  const done = await runCli(args, env, input);
  if (done.code !== 0) throw new Error(`${args.join(' ')} exited with ${done.code}: ${done.stderr}`);
  return JSON.parse(done.stdout) as T;
}
