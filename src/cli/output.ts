// How commands print: plain tables and lines for people, one JSON document
// with --json for scripts. Nothing here ever prints a token unless asked to.

import { once } from 'node:events';
import { GatewayError } from '../errors.js';
import { PRODUCT_ID } from '../product.js';

let stdoutClosed = false;
let watching = false;
const closedListeners = new Set<() => void>();

/** A write failed because the reader of stdout went away (`… | head`), or a write came after that. */
export function isClosedPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || (stdoutClosed && code === 'ERR_STREAM_DESTROYED');
}

function closedPipe(): Error {
  return Object.assign(new Error('stdout was closed by its reader'), { code: 'EPIPE' });
}

/** True once stdout's reader has gone. */
export function stdoutIsClosed(): boolean {
  return stdoutClosed;
}

/** Calls `listener` once stdout's reader has gone (at once if it already has); returns the unsubscribe. */
export function onStdoutClosed(listener: () => void): () => void {
  if (stdoutClosed) listener();
  closedListeners.add(listener);
  return () => closedListeners.delete(listener);
}

/**
 * A closed pipe on stdout is the reader saying it has seen enough: remember it, so
 * the command ends quietly (exit 0, no error line) instead of with "write EPIPE".
 */
export function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (error) => {
    if (!isClosedPipe(error)) {
      process.stderr.write(`${PRODUCT_ID}: cannot write to stdout: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    if (stdoutClosed) return;
    stdoutClosed = true;
    for (const listener of closedListeners) listener();
  });
}

/** Writes to stdout, waiting while its buffer is full; rejects (a closed pipe) once the reader has gone. */
export async function writeOut(text: string): Promise<void> {
  if (stdoutClosed) throw closedPipe();
  if (process.stdout.write(text)) return;
  const settled = new AbortController();
  try {
    await Promise.race([once(process.stdout, 'drain', { signal: settled.signal }), once(process.stdout, 'close', { signal: settled.signal })]);
  } finally {
    settled.abort();
  }
  if (stdoutClosed) throw closedPipe();
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Epoch seconds → ISO time, or "-" when absent. */
export function isoSeconds(seconds: number | undefined): string {
  return seconds === undefined ? '-' : new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** A left-aligned text table with a header row. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** A token argument; `-` reads it from stdin, which keeps it out of shell history and `ps`. */
export async function tokenArgument(value: string): Promise<string> {
  if (value !== '-') return value.trim();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const token = Buffer.concat(chunks).toString('utf8').trim();
  if (token === '') throw new GatewayError('REQUEST_INVALID', 'No token arrived on stdin; pipe it in, e.g. `pbpaste | falkordb-mcp-gateway token inspect -`.');
  return token;
}
