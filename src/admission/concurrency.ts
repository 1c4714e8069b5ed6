// Caps on database operations running at once on this instance: per tenant and
// overall. A tenant waits for its own slot before it may hold a shared one, so
// one tenant's flood of slow queries cannot take the slots another tenant needs.
//
// A cancelled call (its signal aborted) gives up its place in the queue at once
// and never reaches the database. Once its operation has been sent, the slot is
// held until the database answers: FalkorDB has no way to stop a running query,
// so it runs on to its own time limit, and the slot counts it until then.
// Freeing the slot at the cancel would let a tenant run more queries at once on
// FalkorDB than its cap, by cancelling and sending again.

import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { GraphOperations } from '../falkordb/graphs.js';
import { Semaphore, type Release } from './semaphore.js';

export type ConcurrencyLimits = Pick<Config['limits'], 'maxConcurrentPerTenant' | 'maxConcurrent' | 'queueTimeoutMs'>;

function tooMany(what: string): GatewayError {
  return new GatewayError('TOO_MANY_QUERIES', `Too many concurrent queries ${what}, try again shortly.`, { retryAfterSec: '1' });
}

export class ConcurrencyGate {
  readonly #limits: ConcurrencyLimits;
  readonly #overall: Semaphore;
  // Only tenants with work running or waiting have an entry.
  readonly #tenants = new Map<string, Semaphore>();

  constructor(limits: ConcurrencyLimits) {
    this.#limits = limits;
    // Every waiter here already holds one of its tenant's slots, so this queue is bounded by those.
    this.#overall = new Semaphore(limits.maxConcurrent, Number.POSITIVE_INFINITY);
  }

  /**
   * Runs `operation` once the tenant and the instance have a free slot; throws TOO_MANY_QUERIES after the queue wait.
   * `signal` aborted while waiting: throws its reason, and `operation` never runs.
   */
  async run<T>(tenant: string, operation: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.#acquire(tenant, signal);
    try {
      signal?.throwIfAborted();
      return await operation();
    } finally {
      release();
    }
  }

  /** The tenant's view of `graphs` with every database operation under the caps. */
  wrap(tenant: string, graphs: GraphOperations): GraphOperations {
    return {
      query: (q) => this.run(tenant, () => graphs.query(q), q.signal),
      explain: (q) => this.run(tenant, () => graphs.explain(q)),
      listKeys: (prefix) => this.run(tenant, () => graphs.listKeys(prefix)),
      deleteGraph: (key) => this.run(tenant, () => graphs.deleteGraph(key)),
      schema: (key, timeoutMs) => this.run(tenant, () => graphs.schema(key, timeoutMs)),
      createConstraint: (key, spec, timeoutMs) => this.run(tenant, () => graphs.createConstraint(key, spec, timeoutMs)),
      dropConstraint: (key, spec, timeoutMs) => this.run(tenant, () => graphs.dropConstraint(key, spec, timeoutMs)),
      get database() {
        return graphs.database;
      },
    };
  }

  /** Operations running and waiting, for tests and metrics. */
  load(tenant?: string): { active: number; waiting: number } {
    const s = tenant === undefined ? this.#overall : this.#tenants.get(tenant);
    return { active: s?.active ?? 0, waiting: s?.waiting ?? 0 };
  }

  async #acquire(tenant: string, signal: AbortSignal | undefined): Promise<Release> {
    const { maxConcurrentPerTenant, maxConcurrent, queueTimeoutMs } = this.#limits;
    const deadline = Date.now() + queueTimeoutMs;
    const own = this.#tenantSemaphore(tenant);
    const releaseOwn = await own.acquire(queueTimeoutMs, signal);
    if (releaseOwn === undefined) {
      this.#forgetIfIdle(tenant, own);
      signal?.throwIfAborted();
      throw tooMany(`for tenant "${tenant}" (${maxConcurrentPerTenant} at once on this gateway instance, and the queue is full or its ${queueTimeoutMs} ms wait ran out)`);
    }
    const dropOwn = () => {
      releaseOwn();
      this.#forgetIfIdle(tenant, own);
    };
    const releaseShared = await this.#overall.acquire(deadline - Date.now(), signal);
    if (releaseShared === undefined) {
      dropOwn();
      signal?.throwIfAborted();
      throw tooMany(`on this gateway instance (${maxConcurrent} at once across all tenants)`);
    }
    return () => {
      releaseShared();
      dropOwn();
    };
  }

  #tenantSemaphore(tenant: string): Semaphore {
    let s = this.#tenants.get(tenant);
    if (s === undefined) {
      // A queue as long as the cap: a short burst waits its turn, a flood is refused at once.
      s = new Semaphore(this.#limits.maxConcurrentPerTenant, this.#limits.maxConcurrentPerTenant);
      this.#tenants.set(tenant, s);
    }
    return s;
  }

  #forgetIfIdle(tenant: string, s: Semaphore): void {
    if (s.idle && this.#tenants.get(tenant) === s) this.#tenants.delete(tenant);
  }
}
