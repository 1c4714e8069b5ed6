// Latency statistics of one measured cell (percentiles, calls/s), and how figures are printed.

export interface LatencyStats {
  calls: number;
  errors: number;
  /** Calls completed per second of the measured window. */
  callsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

/** The q-quantile (0..1) of an ascending array, nearest-rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(latenciesMs: Float64Array, errors: number, windowMs: number): LatencyStats {
  const sorted = Float64Array.from(latenciesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    calls: sorted.length,
    errors,
    callsPerSec: windowMs > 0 ? (sorted.length * 1000) / windowMs : 0,
    p50Ms: quantile(sorted, 0.5),
    p95Ms: quantile(sorted, 0.95),
    p99Ms: quantile(sorted, 0.99),
    meanMs: sorted.length === 0 ? NaN : sum / sorted.length,
    maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  };
}

/** A growable array of numbers that does not box them. */
export class Samples {
  #data = new Float64Array(1 << 14);
  #length = 0;

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  get length(): number {
    return this.#length;
  }

  values(): Float64Array {
    return this.#data.subarray(0, this.#length);
  }
}

/** A difference in ms with its sign: +0.412, -1.20. */
export function fmtDeltaMs(ms: number): string {
  return `${ms < 0 ? '-' : '+'}${fmtMs(Math.abs(ms))}`;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms < 10 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(1);
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '–';
}
