// What the benchmark does with every server or load process it starts: keep the
// end of its stderr for error messages, and stop it (politely, then for sure).

import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const STDERR_KEPT_CHARS = 2000;

/** The last characters the child wrote to stderr (it must have been spawned with a stderr pipe). */
export function stderrTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-STDERR_KEPT_CHARS)));
  return () => tail.trim();
}

/** Asks the child to end (SIGTERM unless `ask` does it another way) and kills it after `graceMs`; resolves once it has exited. */
export async function endChild(child: ChildProcess, graceMs: number, ask: () => void = () => child.kill('SIGTERM')): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  ask();
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
