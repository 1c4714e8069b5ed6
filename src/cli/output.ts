// How commands print: plain tables and lines for people, one JSON document
// with --json for scripts. Nothing here ever prints a token unless asked to.

import { GatewayError } from '../errors.js';

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
