// How every command ends: one plain line on stderr for an expected failure
// (never a stack trace), and a documented exit code.

import { isGatewayError } from '../errors.js';
import { PRODUCT_ID } from '../product.js';
import { isClosedPipe, watchStdout } from './output.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Failures caused by what was typed or configured, not by what happened at run time. */
const USAGE_CODES: ReadonlySet<string> = new Set(['CONFIG_INVALID', 'REQUEST_INVALID', 'TENANT_ID_INVALID', 'GRAPH_NAME_INVALID']);

export function reportFailure(error: unknown): number {
  // `… | head` closed stdout: the reader has what it wanted; nothing failed.
  if (isClosedPipe(error)) return EXIT.ok;
  if (isGatewayError(error)) {
    process.stderr.write(`${PRODUCT_ID}: ${error.message}\n`);
    return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${PRODUCT_ID}: unexpected error: ${message}\n`);
  return EXIT.failure;
}

/** Runs a command body; on failure reports it and exits with its code. */
export async function runCommand(body: () => Promise<void>): Promise<void> {
  watchStdout();
  try {
    await body();
  } catch (error) {
    process.exitCode = reportFailure(error);
  }
}
