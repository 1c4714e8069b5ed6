// Fails when the folders of src/ import each other in a circle, listing every
// cycle with the file-level imports behind each of its edges:
// `npx tsx scripts/check-folder-cycles.ts` (part of `npm run lint`).
//
// A folder is src/<name>/; a top-level src/<name>.ts counts as folder <name>
// (so src/config.ts sits with src/config/, and src/config-table.ts goes with
// config too). Static imports and re-exports (type-only included) and dynamic
// import() count; tests (*.test.ts) do not. Only relative specifiers are
// followed: packages are outside the chain.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

/** Top-level files that belong to a folder other than their own name. */
const FOLDER_OF_TOP_LEVEL: Readonly<Record<string, string>> = { 'config-table': 'config' };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The folder a file under src/ belongs to. */
function folderOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  if (parts.length > 1) return parts[0]!;
  const name = parts[0]!.replace(/\.tsx?$/, '');
  return FOLDER_OF_TOP_LEVEL[name] ?? name;
}

/** The file a relative specifier names: `./x.js` is written for `./x.ts`, `./x` may be a folder's index. */
function resolve(from: string, specifier: string, known: ReadonlySet<string>): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => known.has(c));
}

/** Every relative module a file imports or re-exports, statically or with import(). */
function importedSpecifiers(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('.'));
}

type Edges = Map<string, Map<string, string[]>>; // from folder → to folder → "a.ts → b.ts" lines

function folderGraph(): Edges {
  const files = sourceFiles(SRC);
  const known = new Set(files);
  const edges: Edges = new Map();
  for (const file of files) {
    const from = folderOf(file);
    if (!edges.has(from)) edges.set(from, new Map());
    for (const specifier of importedSpecifiers(file)) {
      const target = resolve(file, specifier, known);
      if (target === undefined) {
        if (path.resolve(path.dirname(file), specifier).startsWith(SRC + path.sep)) {
          throw new Error(`${path.relative(SRC, file)} imports ${specifier}, which is no file under src/.`);
        }
        continue;
      }
      const to = folderOf(target);
      if (to === from) continue;
      const byTarget = edges.get(from)!;
      const lines = byTarget.get(to) ?? [];
      lines.push(`src/${path.relative(SRC, file)} → src/${path.relative(SRC, target)}`);
      byTarget.set(to, lines);
    }
  }
  return edges;
}

/** Strongly connected components with more than one folder (Tarjan). */
function tangles(edges: Edges): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** Every elementary cycle inside one component, each starting at its smallest folder name. */
function cyclesWithin(component: string[], edges: Edges): string[][] {
  const members = new Set(component);
  const cycles: string[][] = [];
  for (const start of component) {
    const walk = (v: string, pathSoFar: string[]): void => {
      for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
        if (!members.has(w) || w < start) continue;
        if (w === start) cycles.push([...pathSoFar, start]);
        else if (!pathSoFar.includes(w)) walk(w, [...pathSoFar, w]);
      }
    };
    walk(start, [start]);
  }
  return cycles;
}

/** The folders in layers: each imports only folders of earlier layers (meaningful once there are no cycles). */
function layers(edges: Edges): string[][] {
  const depth = new Map<string, number>();
  const depthOf = (v: string): number => {
    const known = depth.get(v);
    if (known !== undefined) return known;
    depth.set(v, 0);
    const d = Math.max(-1, ...[...(edges.get(v)?.keys() ?? [])].map(depthOf)) + 1;
    depth.set(v, d);
    return d;
  };
  const out: string[][] = [];
  for (const v of [...edges.keys()].sort()) (out[depthOf(v)] ??= []).push(v);
  return out;
}

const edges = folderGraph();
const found = tangles(edges);
if (found.length === 0) {
  console.log(`No import cycles between the ${edges.size} folders of src/. From the bottom up:`);
  for (const layer of layers(edges)) console.log(`  ${layer.join(', ')}`);
} else {
  const out: string[] = [];
  let count = 0;
  for (const component of found) {
    const cycles = cyclesWithin(component, edges);
    count += cycles.length;
    out.push(`Folders ${component.join(', ')} import each other:`);
    for (const cycle of cycles) out.push(`  cycle: ${cycle.join(' → ')}`);
    out.push('  the imports behind these edges:');
    for (const from of component) {
      for (const [to, lines] of [...edges.get(from)!].sort(([a], [b]) => a.localeCompare(b))) {
        if (!component.includes(to)) continue;
        out.push(`    ${from} → ${to}`);
        for (const line of lines) out.push(`      ${line}`);
      }
    }
  }
  out.push(
    `${count} import cycle(s) between folders of src/. Folders depend one way (docs/architecture.md): ` +
      'move the shared type or helper to the lowest folder that needs it.',
  );
  console.error(out.join('\n'));
  process.exitCode = 1;
}
