// Which commands FalkorDB ran per call in a timed window (INFO commandstats),
// so the report shows what each system costs the database beyond the query itself.

import type { FalkorDB } from 'falkordb';

type Counts = Map<string, number>;

async function readCounts(db: FalkorDB): Promise<Counts> {
  const conn = await db.connection;
  const text = String(await conn.sendCommand(['INFO', 'commandstats']));
  const counts: Counts = new Map();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(match[1]!.toUpperCase(), Number(match[2]));
  return counts;
}

export class CommandMeter {
  readonly #db: FalkorDB;
  #start: Promise<Counts> | undefined;
  #end: Promise<Counts> | undefined;

  constructor(db: FalkorDB) {
    this.#db = db;
  }

  /** Called on the window's edges; reads without blocking the caller. */
  mark(edge: 'start' | 'end'): void {
    const reading = readCounts(this.#db);
    reading.catch(() => undefined);
    if (edge === 'start') this.#start = reading;
    else this.#end = reading;
  }

  /** Commands per call, most frequent first, e.g. "GRAPH.RO_QUERY 1.00, XADD 1.00"; undefined if not measured. */
  async perCall(calls: number): Promise<string | undefined> {
    if (this.#start === undefined || this.#end === undefined || calls === 0) return undefined;
    const [start, end] = await Promise.all([this.#start, this.#end]);
    const rows: Array<[string, number]> = [];
    for (const [name, count] of end) {
      // Our own reading of the stats is not the system's work.
      if (name === 'INFO') continue;
      const perCall = (count - (start.get(name) ?? 0)) / calls;
      if (perCall >= 0.005) rows.push([name, perCall]);
    }
    return rows.sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n.toFixed(2)}`).join(', ');
  }
}
