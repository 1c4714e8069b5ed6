// Per-tenant daily usage counters in the database server, gathered in memory
// and written in batches so the hot path never waits on them.

import type { ToolCallRecord } from '../tools/context.js';

export interface UsageRecorder {
  /** One admitted HTTP request (or SSE tool call) of the tenant. */
  request(tenant: string): void;
  /** One finished tool call of the tenant. */
  toolCall(tenant: string, record: ToolCallRecord): void;
  /** Writes what is gathered so far. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

export const NO_USAGE: UsageRecorder = {
  request: () => undefined,
  toolCall: () => undefined,
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
