// Prints the top self-time functions of a V8 .cpuprofile (`npm run bench -- --profile`,
// or `node --cpu-prof`), overall and inside the gateway's own code (src/), and src/'s inclusive time.
// usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top=N] [--filter=TEXT]

import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

function where(frame: ProfileNode['callFrame']): string {
  const file = frame.url.replace(/^file:\/\//, '');
  const shown = file.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, file) : file || '(native)';
  // tsx-compiled modules report line 0 for every function; the file says enough then.
  return `${frame.functionName || '(anonymous)'} ${shown}${frame.lineNumber > 0 ? `:${frame.lineNumber + 1}` : ''}`;
}

function summarize(file: string, top: number, filter: string | undefined): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Self time per node, from the samples and their time deltas (µs).
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;
  const idleUs = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((s, [, t]) => s + t, 0);

  const self = new Map<string, number>();
  // Inclusive time of src/ functions: a sample counts once for each distinct src/ function on its stack.
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const key = where(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = where(byId.get(cur)!.callFrame);
      if (k.includes(' src/') && !seen.has(k)) {
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + us);
      }
    }
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  const list = (title: string, entries: Map<string, number>, keep: (k: string) => boolean) => {
    console.log(`\n${title}`);
    [...entries].filter(([k]) => keep(k)).sort((a, b) => b[1] - a[1]).slice(0, top).forEach(([k, us]) => console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`));
  };
  console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s, busy ${(busyUs / 1e6).toFixed(1)} s (percentages are of busy time)`);
  const matches = (k: string) => filter === undefined || k.includes(filter);
  list('top self time, everything', self, (k) => matches(k) && !k.startsWith('(idle)'));
  list('top self time in src/', self, (k) => matches(k) && k.includes(' src/'));
  list('top inclusive time in src/ (self plus everything it calls)', inclusive, matches);
}

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('--'));
const top = Number(/^--top=(\d+)$/.exec(args.find((a) => a.startsWith('--top=')) ?? '')?.[1] ?? 25);
const filter = /^--filter=(.*)$/.exec(args.find((a) => a.startsWith('--filter=')) ?? '')?.[1];
if (files.length === 0) {
  console.error('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top=N] [--filter=TEXT]');
  process.exit(2);
}
for (const file of files) summarize(file, top, filter);
