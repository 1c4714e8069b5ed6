// The audit trail: one event per authentication decision, tool call and
// operator action, fanned out to the log, the AUDIT_LOG_FILE and the shared
// stream. Writing never blocks or fails the request it describes, and the
// events of requests are built after their replies are written.

import type { Principal } from '../tenancy/principal.js';
import type { Config } from '../config/index.js';
import type { GatewayError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import type { ToolCallRecord } from './tool-call.js';
import { orderedEvent, refusalFacts, toolCallEvent, type AuditEvent, type AuditFacts, type RefusalFacts } from './audit-event.js';
import { IsoTimes, QueryHashes } from './audit-cache.js';
import { AuditFileSink, STREAM_BATCH_MAX, logSink, streamSink, type AuditSink, type StreamSink } from './audit-sinks.js';
import type { Logger } from '../logger.js';
import { RefusalSummary } from './refusal-summary.js';

export type { AuditEvent, AuditEventName, AuditFacts } from './audit-event.js';

/** A sink that keeps failing is reported this often, not once per event. */
const FAILURE_REPORT_INTERVAL_MS = 60_000;

interface SinkFailures {
  total: number;
  /** Failures since the last report, so a report says how many it stands for. */
  unreported: number;
  reportedAt: number | undefined;
}

/**
 * What a request leaves for the trail: when it happened (epoch ms) and how to
 * build its event from that time's text. Building (the ISO time, the query's
 * SHA-256, the fields in order) waits until the request's reply is written.
 */
interface Deferred {
  at: number;
  build(time: string): AuditEvent | undefined;
}

export class AuditTrail {
  readonly #logger: Logger;
  readonly #options: Config['audit'];
  readonly #now: () => number;
  readonly #sinks: AuditSink[];
  readonly #file: AuditFileSink | undefined;
  readonly #stream: StreamSink;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #failures = new Map<string, SinkFailures>();
  readonly #refusals: RefusalSummary | undefined;
  readonly #queryHashes = new QueryHashes();
  readonly #times = new IsoTimes();
  #deferred: Deferred[] = [];
  #building: NodeJS.Immediate | undefined;
  readonly #buildNow = () => this.#buildDeferred();

  constructor(store: StateStore, logger: Logger, options: Config['audit'], now: () => number = Date.now) {
    this.#logger = logger;
    this.#options = options;
    this.#now = now;
    this.#file = options.logFile === undefined ? undefined : new AuditFileSink(options.logFile);
    this.#stream = streamSink(store, { maxLen: options.streamMaxLen, bufferMax: options.bufferMax, logger });
    this.#sinks = [logSink(logger), ...(this.#file ? [this.#file] : []), this.#stream];
    this.#refusals = options.refusalsPerMinute === undefined ? undefined : new RefusalSummary(options.refusalsPerMinute, (summary) => this.#defer((time) => orderedEvent({ time, ...summary })));
  }

  /**
   * One event per finished tool call: query_success, query_error (or denied / rate_limited).
   * The call path only leaves its facts here; the event is built and written on a later turn.
   */
  toolCall(principal: Principal, clientIp: string | undefined, call: ToolCallRecord): void {
    this.#defer((time) => toolCallEvent(time, principal, clientIp, call, call.query === undefined ? undefined : this.#queryHashes.of(call.query), this.#options.queryText));
  }

  /**
   * One event per refused request that is an authentication, authorisation or rate decision; other
   * refusals are not audited. Past AUDIT_REFUSALS_PER_MINUTE for one address, the rest of its minute
   * becomes one `refusals_summarised` event, so a flood cannot push older events out of a stream.
   */
  requestRefused(error: GatewayError, facts: RefusalFacts): void {
    this.#defer((time) => {
      const built = refusalFacts(error, facts);
      return built === undefined || this.#refusals?.admit(built) === false ? undefined : orderedEvent({ time, ...built });
    });
  }

  /** Writes the summaries of refusals held back so far, now rather than at the end of their minute. */
  summariseRefusals(): void {
    this.#refusals?.summarise();
  }

  /** Writes an event to every sink now; resolves when all are done, and never rejects (failures are counted and reported). */
  async record(facts: AuditFacts): Promise<void> {
    // Events of earlier requests go first, so the streams keep the order things happened in.
    this.#buildDeferred();
    const written = this.#write(orderedEvent({ time: this.#times.of(this.#now()), ...facts }));
    for (const sink of this.#sinks) sink.flush?.();
    await written;
  }

  /** Hands an event to every sink; a batching sink may hold it back for a few milliseconds. Never rejects. */
  #write(event: AuditEvent): Promise<unknown> {
    // Last in AUDIT_FIELDS: set here, the order of the rest stays as built.
    if (this.#options.instance !== undefined) event.instance = this.#options.instance;
    const sinks = this.#sinks;
    return sinks.length === 1 ? this.#writeTo(sinks[0]!, event) : Promise.all(sinks.map((sink) => this.#writeTo(sink, event)));
  }

  /** SIGHUP: after logrotate moved AUDIT_LOG_FILE away, new events go to a new file at the same path. */
  async reopen(): Promise<void> {
    await this.#file?.reopen();
  }

  /** Resolves once every event recorded so far has been written (or has failed). */
  async flush(): Promise<void> {
    this.#buildDeferred();
    while (this.#pending.size > 0) {
      for (const sink of this.#sinks) sink.flush?.();
      await Promise.all(this.#pending);
      // Requests that finished meanwhile.
      this.#buildDeferred();
    }
  }

  /** Waits for events still being written, then closes the file. */
  async close(): Promise<void> {
    this.#refusals?.close();
    await this.flush();
    await Promise.all(this.#sinks.map((sink) => sink.close?.()));
  }

  /** Events held in memory until the database takes writes again (AUDIT_BUFFER_MAX), for metrics. */
  heldEvents(): number {
    return this.#stream.held;
  }

  /** Failed writes per sink since start, for metrics. */
  sinkFailures(): Record<string, number> {
    return Object.fromEntries(this.#sinks.map((sink) => [sink.name, this.#failures.get(sink.name)?.total ?? 0]));
  }

  #defer(build: Deferred['build']): void {
    this.#deferred.push({ at: this.#now(), build });
    // A full batch is built at once, as the stream would send it at once; otherwise on the
    // next turn of the event loop, once the reply of this request has been written.
    // Not unref'd: a deferred event keeps the process up until it is written.
    if (this.#deferred.length >= STREAM_BATCH_MAX) this.#buildDeferred();
    else this.#building ??= setImmediate(this.#buildNow);
  }

  /** Builds every deferred event and hands them to the sinks; `flush()` and `close()` wait for them. */
  #buildDeferred(): void {
    if (this.#building !== undefined) {
      clearImmediate(this.#building);
      this.#building = undefined;
    }
    const deferred = this.#deferred;
    if (deferred.length === 0) return;
    this.#deferred = [];
    const writes: Array<Promise<unknown>> = [];
    for (const entry of deferred) {
      let event: AuditEvent | undefined;
      try {
        event = entry.build(this.#times.of(entry.at));
      } catch (error) {
        // A bug in building one event must not cost the others, nor the request it describes.
        this.#logger.error({ err: error instanceof Error ? error.message : String(error) }, 'audit event could not be built');
        continue;
      }
      if (event !== undefined) writes.push(this.#write(event));
    }
    if (writes.length === 0) return;
    const writing = Promise.all(writes);
    this.#pending.add(writing);
    void writing.finally(() => this.#pending.delete(writing));
  }

  #writeTo(sink: AuditSink, event: AuditEvent): Promise<void> {
    let written: Promise<void>;
    try {
      written = sink.write(event);
    } catch (error) {
      this.#failed(sink, event, error);
      return Promise.resolve();
    }
    return written.catch((error: unknown) => this.#failed(sink, event, error));
  }

  #failed(sink: AuditSink, event: AuditEvent, error: unknown): void {
    const failures = this.#failures.get(sink.name) ?? { total: 0, unreported: 0, reportedAt: undefined };
    this.#failures.set(sink.name, failures);
    failures.total += 1;
    failures.unreported += 1;
    const now = this.#now();
    if (failures.reportedAt !== undefined && now - failures.reportedAt < FAILURE_REPORT_INTERVAL_MS) return;
    this.#logger.warn(
      { sink: sink.name, event: event.event, tenant: event.tenant, failures: failures.unreported, err: error instanceof Error ? error.message : String(error) },
      `audit events could not be written to the ${sink.name} sink (reported at most once a minute); ${sink.hint}`,
    );
    failures.reportedAt = now;
    failures.unreported = 0;
  }
}
