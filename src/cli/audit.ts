// `audit tail`: a tenant's audit events from every instance (they all append to
// one stream in the database server), oldest first; with --follow, new ones too.

import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration, parseDuration } from '../duration.js';
import { GatewayError } from '../errors.js';
import type { AuditEvent } from '../observability/audit.js';
import { AUDIT_PAGE_SIZE, auditStreamKey, readAuditPage } from '../observability/audit-stream.js';
import type { StateStore } from '../state/store.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { withCliContext } from './context.js';
import { onStdoutClosed, writeOut } from './output.js';
import { runCommand } from './run.js';

/** How often --follow asks for new events. Polling, unlike XREAD BLOCK, needs no second connection and stops at once on Ctrl-C. */
const FOLLOW_POLL_MS = 500;

interface TailOptions {
  tenant: string;
  since: string;
  follow?: boolean;
  json?: boolean;
}

/** One line per event: time, event, device, tool (or request path), graph, outcome, ms, ip, then who and what for operator events. */
export function formatAuditLine(e: AuditEvent): string {
  const ms = e.durationMs === undefined ? '-' : `${Math.round(e.durationMs * 10) / 10}ms`;
  const cells = [
    e.time.padEnd(24),
    e.event.padEnd(14),
    (e.device ?? '-').padEnd(12),
    (e.tool ?? e.path ?? '-').padEnd(21),
    (e.graph ?? '-').padEnd(12),
    (e.errorCode ?? (e.event === 'refusals_summarised' ? 'several' : 'ok')).padEnd(21),
    ms.padStart(9),
    e.clientIp ?? '-',
  ];
  const extra = [e.actor === undefined ? undefined : `by ${e.actor}`, e.detail].filter((v) => v !== undefined).join(': ');
  return `${cells.join('  ')}${extra === '' ? '' : `  ${extra}`}`;
}

function sinceOption(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new GatewayError('REQUEST_INVALID', `--since: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function noEventsSentence(store: StateStore, tenant: string, sinceSec: number): Promise<string> {
  const known = await store.exists(auditStreamKey(tenant));
  return known
    ? `No audit events for tenant "${tenant}" in the last ${formatDuration(sinceSec)}; use --since (e.g. --since 7d) to look further back.`
    : `Tenant "${tenant}" has no audit events: none were recorded, or all were trimmed (AUDIT_STREAM_MAXLEN).`;
}

async function tail(options: TailOptions): Promise<void> {
  const tenant = validateTenantId(options.tenant);
  const sinceSec = sinceOption(options.since);
  const print = (event: AuditEvent) => writeOut(`${options.json ? JSON.stringify(event) : formatAuditLine(event)}\n`);
  // Ctrl-C is how --follow is meant to end: stop reading, close the connection, exit 0. So is a reader that closed stdout (`| head`).
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  if (options.follow) process.on('SIGINT', onInterrupt);
  const unwatch = onStdoutClosed(() => stop.abort());
  try {
    await withCliContext(process.env, async (ctx) => {
      const store = ctx.state.store;
      const sinceMs = Date.now() - sinceSec * 1000;
      let last: string | undefined;
      const readMore = async (): Promise<boolean> => {
        const page = await readAuditPage(store, tenant, last === undefined ? { sinceMs } : { after: last });
        for (const entry of page) await print(entry.event);
        if (page.length > 0) last = page[page.length - 1]!.id;
        return page.length === AUDIT_PAGE_SIZE;
      };

      let more = true;
      while (more && !stop.signal.aborted) more = await readMore();
      if (last === undefined) {
        const sentence = await noEventsSentence(store, tenant, sinceSec);
        // With --json, stdout stays one JSON object per line.
        if (options.json) process.stderr.write(`${sentence}\n`);
        else process.stdout.write(`${sentence}\n`);
      }
      if (!options.follow) return;

      process.stderr.write(`Following new audit events of tenant "${tenant}"; press Ctrl-C to stop.\n`);
      while (!stop.signal.aborted) {
        if (await readMore()) continue;
        await sleep(FOLLOW_POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    });
  } finally {
    unwatch();
    process.off('SIGINT', onInterrupt);
  }
}

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('Read the audit trail every gateway instance writes to the database server.');

  audit
    .command('tail')
    .description("Print a tenant's audit events from every instance, oldest first: time, event, device, tool, graph, outcome, ms, client address.")
    .requiredOption('--tenant <id>', 'the tenant whose events to print')
    .option('--since <duration>', 'how far back to start: 90 (seconds), 30s, 15m, 1h, 7d or 2w', '1h')
    .option('--follow', 'keep printing new events as they arrive, until Ctrl-C')
    .option('--json', 'print one JSON object per line')
    .action((options: TailOptions) => runCommand(() => tail(options)));
}
