// Command-line flags of `npm run bench`.

export interface BenchOptions {
  quick: boolean;
  /** Run only the cells whose id has every one of these segments (e.g. gateway-raw, return1, c=64). */
  only: string[];
  warmupMs: number;
  durationMs: number;
  /** Unmeasured run of each system/workload pair before the first cell, for the JIT. */
  primeMs: number;
  /** Where the Markdown report goes; undefined: print only. */
  out: string | undefined;
  /** Write a CPU profile of the gateway's process per gateway cell, timed window only, into bench/profiles/. */
  profile: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--only=SEG,SEG,...] [--duration=SEC] [--warmup=SEC] [--out=FILE | --no-write] [--profile]

  --quick      every target, shorter windows and fewer cells (writes bench/results-quick.md)
  --only       run the cells whose id has all these segments, e.g.
               --only=gateway-raw,return1,c=64,tenants=1   or   --only=memory
               (cell ids: SYSTEM/WORKLOAD/c=N/tenants=N, request/REQUEST/c=N and memory/TARGET/sessions=N;
               prints only, unless --out is given)
  --duration   timed seconds per cell (default 5, quick 1)
  --warmup     untimed seconds before each cell (default 1, quick 0.4)
  --out        write the report there instead of bench/results.md
  --no-write   print only
  --profile    CPU-profile the gateway during each gateway cell's timed window
               into bench/profiles/CELL.cpuprofile; summarize with
               npx tsx bench/profile-summary.ts bench/profiles/FILE.cpuprofile`;

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 600) throw new Error(`${flag} must be a number of seconds between 0 and 600, got ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    flags.set(match[1]!, match[2] ?? '');
  }
  const known = new Set(['quick', 'only', 'duration', 'warmup', 'out', 'no-write', 'profile']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}\n${USAGE}`);
  const quick = flags.has('quick');
  const only = (flags.get('only') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const defaultOut = only.length > 0 ? undefined : quick ? 'bench/results-quick.md' : 'bench/results.md';
  return {
    quick,
    only,
    warmupMs: flags.has('warmup') ? seconds('--warmup', flags.get('warmup')!) : quick ? 400 : 1000,
    durationMs: flags.has('duration') ? seconds('--duration', flags.get('duration')!) : quick ? 1000 : 5000,
    primeMs: quick ? 300 : 1000,
    out: flags.has('no-write') ? undefined : (flags.get('out') || defaultOut),
    profile: flags.has('profile'),
  };
}
